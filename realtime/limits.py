"""Limits on what one person (or one address) may do, as plain values: no I/O, no clock.

Callers pass the time in (`time.monotonic()`), so every rule here is tested without waiting.
The state lives in one process; with several server processes each enforces its own share.
"""

from collections import OrderedDict
from dataclasses import dataclass


@dataclass
class TokenBucket:
    """Allows `burst` actions at once, then `rate` per second."""

    rate: float
    burst: float
    tokens: float
    updated: float

    @classmethod
    def full(cls, *, rate: float, burst: float, now: float) -> "TokenBucket":
        return cls(rate=rate, burst=burst, tokens=burst, updated=now)

    def take(self, now: float, *, cost: float = 1.0) -> bool:
        """Spend `cost` tokens if there are that many."""
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < cost:
            return False
        self.tokens -= cost
        return True


class BucketMap:
    """One token bucket per key, at most `capacity` of them.

    When a new key arrives and the map is full, the bucket used least recently goes: memory
    stays bounded however many keys (addresses, accounts) an attacker cycles through, and
    resetting someone's bucket that way takes `capacity` fresh keys.
    """

    def __init__(self, *, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a BucketMap needs room for at least one bucket")
        self.capacity = capacity
        self.buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, key: str, *, rate: float, burst: float, now: float, cost: float = 1.0) -> bool:
        bucket = self.buckets.get(key)
        if bucket is None:
            while len(self.buckets) >= self.capacity:
                self.buckets.popitem(last=False)
            bucket = self.buckets[key] = TokenBucket.full(rate=rate, burst=burst, now=now)
        else:
            self.buckets.move_to_end(key)
        return bucket.take(now, cost=cost)

    def __len__(self) -> int:
        return len(self.buckets)

    def clear(self) -> None:
        self.buckets.clear()


@dataclass(frozen=True)
class Budget:
    """What one person may spend on one kind of socket action: `burst` at once, then `rate`
    per second."""

    rate: float
    burst: float


@dataclass(frozen=True)
class Cost:
    """What one socket action spends, and from which of the person's budgets."""

    budget: str
    tokens: float = 1.0


class OpenCounts:
    """How many sockets each user has open here. A user's entry goes when their last socket
    closes, so the map never holds more entries than there are open sockets."""

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}

    def open(self, user_id: int, *, cap: int) -> bool:
        """Count one more socket for `user_id`, unless they already have `cap` open."""
        count = self.counts.get(user_id, 0)
        if count >= cap:
            return False
        self.counts[user_id] = count + 1
        return True

    def close(self, user_id: int) -> None:
        count = self.counts.get(user_id, 0)
        if count <= 1:
            self.counts.pop(user_id, None)
        else:
            self.counts[user_id] = count - 1

    def __getitem__(self, user_id: int) -> int:
        return self.counts.get(user_id, 0)

    def __len__(self) -> int:
        return len(self.counts)

    def clear(self) -> None:
        self.counts.clear()


def attempt_key(*, user_id: int | None, client: tuple[str, int] | list[object] | None) -> str:
    """Whose connection attempts these are: the account when signed in, else the address."""
    if user_id is not None:
        return f"user:{user_id}"
    host = client[0] if client else None
    return f"address:{host}" if host else "address:unknown"
