"""One load-generating process's record of a run (see delivery.py for what is counted and
why): what its users sent, and per connection and per person what arrived inside their
counting windows.

A `Connection` counts what one open socket receives between `grace` after it opened and
`settle` before it closed; a `Person` holds the distinct messages one load-test user received
across all its connections. The `Ledger` keeps both, with sends, failures, drops, latency
histograms and the reconnect storms (storms.py); `quiesce()` stops sending for the end of the
run and `snapshot()` freezes the books as plain JSON-able data for `delivery.summarise()`.

Plain Python, no Locust: the tests use it directly.
"""

import math
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from loadtest.locust.inbox import Seen
from loadtest.locust.latency import latency_bucket
from loadtest.locust.storms import StormBook


@dataclass(frozen=True)
class ConnectionRecord:
    room: str
    opened_at: float
    closed_at: float
    start: float  # the counting window: sends in [start, end] are owed to this socket
    end: float
    received: Mapping[str, int]  # in-window deliveries per stream, duplicates excluded
    duplicates: int = 0
    out_of_order: int = 0
    before_open: int = 0  # sent before this socket opened: replayed on resume, or raced it
    host: str = ""  # the server it was open to

    def as_dict(self) -> dict[str, Any]:
        return {
            "room": self.room,
            "host": self.host,
            "opened_at": self.opened_at,
            "closed_at": self.closed_at,
            "start": self.start,
            "end": self.end,
            "received": dict(self.received),
            "duplicates": self.duplicates,
            "out_of_order": self.out_of_order,
            "before_open": self.before_open,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ConnectionRecord":
        return cls(
            room=str(data["room"]),
            opened_at=float(data["opened_at"]),
            closed_at=float(data["closed_at"]),
            start=float(data["start"]),
            end=float(data["end"]),
            received={str(k): int(v) for k, v in data["received"].items()},
            duplicates=int(data.get("duplicates", 0)),
            out_of_order=int(data.get("out_of_order", 0)),
            before_open=int(data.get("before_open", 0)),
            host=str(data.get("host", "")),
        )


class Connection:
    """Counts what one open socket receives inside its window."""

    def __init__(
        self, room: str, opened_at: float, *, grace: float, settle: float, host: str = ""
    ) -> None:
        self.room = room
        self.host = host
        self.opened_at = opened_at
        self.start = opened_at + grace
        self.settle = settle
        self.counts: Counter[str] = Counter()
        # In-window deliveries of the last `settle` seconds: (received_at, stream, sent_at).
        # At close, the ones sent in the final `settle` seconds are taken back out.
        self.recent: deque[tuple[float, str, float]] = deque()
        self.highest_message_id = 0
        self.duplicates = 0
        self.out_of_order = 0
        self.before_open = 0
        self.resumed = False  # the user asked for what it missed on this socket

    def deliver(
        self,
        stream: str,
        sent_at: float,
        received_at: float,
        seen: Seen,
        message_id: int | None = None,
    ) -> None:
        if seen is Seen.DUPLICATE:
            self.duplicates += 1
            return
        if sent_at < self.start:
            self.before_open += 1
            return
        if message_id is not None:  # live pushes should arrive in the room's order
            if message_id < self.highest_message_id:
                self.out_of_order += 1
            self.highest_message_id = max(self.highest_message_id, message_id)
        self.counts[stream] += 1
        self.recent.append((received_at, stream, sent_at))
        while self.recent and self.recent[0][0] < received_at - self.settle:
            self.recent.popleft()

    def close(self, closed_at: float, end: float | None = None) -> ConnectionRecord:
        """The record of this socket; its window ends `settle` before `closed_at`, or at `end`
        if that is earlier (when sending stopped)."""
        end = closed_at - self.settle if end is None else min(end, closed_at - self.settle)
        received = Counter(self.counts)
        for _, stream, sent_at in self.recent:
            if sent_at > end:
                received[stream] -= 1
        return ConnectionRecord(
            room=self.room,
            opened_at=self.opened_at,
            closed_at=closed_at,
            start=self.start,
            end=end,
            received={stream: count for stream, count in received.items() if count > 0},
            duplicates=self.duplicates,
            out_of_order=self.out_of_order,
            before_open=self.before_open,
            host=self.host,
        )


class Person:
    """What one load-test user holds across all its connections: the send time of each
    distinct message it received, per stream."""

    def __init__(self, room: str, joined_at: float, *, grace: float) -> None:
        self.room = room
        self.start = joined_at + grace
        self.left_at: float | None = None  # refused for good, or stopped before the end
        self.received: dict[str, list[float]] = {}

    def receive(self, stream: str, sent_at: float) -> None:
        self.received.setdefault(stream, []).append(sent_at)

    def record(self, end: float) -> dict[str, Any]:
        """Its window [start, end] and what it holds of each stream inside it."""
        return {
            "room": self.room,
            "start": self.start,
            "end": end,
            "received": {
                stream: sum(1 for t in times if self.start <= t <= end)
                for stream, times in self.received.items()
            },
        }


@dataclass
class Ledger:
    """One process's record of a run: sends, connections, failures. `snapshot()` freezes it
    and returns what `summarise()` needs, as plain JSON-able data."""

    grace: float = 0.0
    settle: float = 3.0
    sends: dict[str, list[float]] = field(default_factory=dict)
    records: list[ConnectionRecord] = field(default_factory=list)
    open: dict[int, Connection] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    connect_failures: Counter[str] = field(default_factory=Counter)
    drops: Counter[str] = field(default_factory=Counter)
    failures_by_host: Counter[str] = field(default_factory=Counter)
    drops_by_host: Counter[str] = field(default_factory=Counter)
    deliveries_per_second: Counter[int] = field(default_factory=Counter)
    drops_per_second: Counter[int] = field(default_factory=Counter)
    # name -> whole second -> latency bucket -> count: percentiles per second, not Locust's
    # rolling window, so a second with nothing measured stays empty.
    latencies: dict[str, dict[int, Counter[int]]] = field(default_factory=dict)
    acks: int = 0
    rejected: int = 0
    # Chat sends not known to exist yet, by (stream, sender, seq): a send is owed to others
    # once the server acknowledged it, or once its sender saw it come back (the socket may
    # have closed before the acknowledgement); a rejected one never is.
    unconfirmed: dict[tuple[str, str, int], float] = field(default_factory=dict)
    attempts: int = 0  # chat sends made
    storms: StormBook = field(default_factory=StormBook)  # reconnect storms (storms.py)
    quiesced_at: float | None = None  # when sending stopped for the end of the run
    frozen: bool = False

    @property
    def quiesced(self) -> bool:
        return self.quiesced_at is not None

    def quiesce(self, now: float) -> None:
        """Sending stops here; receiving goes on until the snapshot."""
        if self.quiesced_at is None:
            self.quiesced_at = now

    def record_send(self, stream: str, sent_at: float) -> None:
        """A message that exists (an acknowledged send, a published announcement)."""
        late = self.quiesced_at is not None and sent_at > self.quiesced_at
        if not self.frozen and not late:
            self.sends.setdefault(stream, []).append(sent_at)

    def sent(self, stream: str, sender: str, seq: int, sent_at: float) -> None:
        """A chat send, owed to no one until it is acknowledged or seen."""
        if not self.frozen and not self.quiesced:
            self.attempts += 1
            self.unconfirmed[(stream, sender, seq)] = sent_at

    def record_ack(self, stream: str, sender: str, seq: int, *, rejected: bool = False) -> None:
        if self.frozen:
            return
        sent_at = self.unconfirmed.pop((stream, sender, seq), None)
        if rejected:
            self.rejected += 1
            return
        self.acks += 1
        if sent_at is not None:
            self.record_send(stream, sent_at)

    def echoed(self, stream: str, sender: str, seq: int) -> None:
        """The sender saw its own message: it exists, acknowledged or not."""
        sent_at = self.unconfirmed.pop((stream, sender, seq), None)
        if sent_at is not None and not self.frozen:
            self.record_send(stream, sent_at)

    def record_latency(self, name: str, at: float, ms: float) -> None:
        if not self.frozen:
            seconds = self.latencies.setdefault(name, {})
            seconds.setdefault(math.floor(at), Counter())[latency_bucket(ms)] += 1

    def record_delivery(self, received_at: float) -> None:
        if not self.frozen:
            self.deliveries_per_second[math.floor(received_at)] += 1

    def connection_failed(self, reason: str, host: str = "", *, person: str = "") -> None:
        if not self.frozen:
            self.connect_failures[reason] += 1
            self.failures_by_host[host] += 1
            self.storms.attempt_failed(person)

    def storm_dropped(self, person: str, storm: int, start: float, at: float) -> None:
        """`person` closed its socket for reconnect storm number `storm` (planned at `start`)."""
        if not self.frozen:
            self.storms.dropped(person, storm, start, at)

    def storm_reopened(self, person: str, at: float) -> None:
        """`person`'s socket was accepted again; the end of its storm, if it was down for one."""
        if not self.frozen:
            self.storms.reopened(person, at, quiesced=self.quiesced)

    def dropped(self, reason: str, host: str = "", *, at: float | None = None) -> None:
        """The server (or the network) closed a socket the user meant to keep."""
        if not self.frozen:
            self.drops[reason] += 1
            self.drops_by_host[host] += 1
            self.drops_per_second[math.floor(time.time() if at is None else at)] += 1

    def opened(self, room: str, opened_at: float, host: str = "") -> Connection:
        connection = Connection(room, opened_at, grace=self.grace, settle=self.settle, host=host)
        if not self.frozen:
            self.open[id(connection)] = connection
        return connection

    def joined(self, person: str, room: str, at: float) -> None:
        """`person` connected: from its first connection on, it is owed its room's messages."""
        if not self.frozen and person not in self.people:
            self.people[person] = Person(room, at, grace=self.grace)

    def person_received(self, person: str, stream: str, sent_at: float) -> None:
        """`person` received a message it did not hold yet (on any of its connections)."""
        holder = self.people.get(person)
        if holder is not None and not self.frozen:
            holder.receive(stream, sent_at)

    def left(self, person: str, at: float) -> None:
        """`person` stopped before the end of the run (refused for good)."""
        if not self.frozen:
            self.storms.gave_up(person)
        holder = self.people.get(person)
        if holder is not None and holder.left_at is None and not self.frozen:
            holder.left_at = at

    def closed(self, connection: Connection, closed_at: float) -> None:
        if self.open.pop(id(connection), None) is not None:
            self.records.append(connection.close(closed_at))

    def snapshot(self, now: float) -> dict[str, Any]:
        """Close the books at `now`: open connections end here (their windows at the
        quiesce, if there was one), later events are ignored."""
        for key, connection in list(self.open.items()):
            del self.open[key]
            self.records.append(connection.close(now, end=self.quiesced_at))
        self.frozen = True
        end = now if self.quiesced_at is None else self.quiesced_at
        people = [
            person.record(end if person.left_at is None else min(end, person.left_at - self.settle))
            for person in self.people.values()
        ]
        return {
            "people": people,
            "sends": {stream: sorted(times) for stream, times in self.sends.items()},
            "connections": [record.as_dict() for record in self.records],
            "connect_failures": dict(self.connect_failures),
            "drops": dict(self.drops),
            "failures_by_host": dict(self.failures_by_host),
            "drops_by_host": dict(self.drops_by_host),
            "deliveries_per_second": [
                [s, n] for s, n in sorted(self.deliveries_per_second.items())
            ],
            "drops_per_second": [[s, n] for s, n in sorted(self.drops_per_second.items())],
            "acks": self.acks,
            "rejected": self.rejected,
            "latencies": {
                name: [[second, dict(buckets)] for second, buckets in sorted(seconds.items())]
                for name, seconds in self.latencies.items()
            },
            "unacked": len(self.unconfirmed),
            "storms": self.storms.snapshot(),
            "attempts": self.attempts,
            "unconfirmed": {
                stream: sorted(t for (s, _, _), t in self.unconfirmed.items() if s == stream)
                for stream in {key[0] for key in self.unconfirmed}
            },
        }
