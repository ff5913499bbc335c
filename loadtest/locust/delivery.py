"""Delivery completeness: what each socket received against what it should have received.

Every socket hears two streams: its room's messages and the site-wide announcements. A socket
is owed every message sent to one of its streams while it was open, give or take two margins:

- `grace` after opening (clock skew between load-generating machines; 0 on one machine:
  the server joins the socket to its groups before the handshake completes, so anything sent
  after the client saw the handshake reaches it), and
- `settle` before closing (a message sent just before a socket closes may still be on its
  way; the last `settle` seconds are left out on both sides of the count).

Each load-generating process keeps a `Ledger` of what its users sent and, per connection,
how much of each stream arrived inside that window. The run ends in two steps: `quiesce()`
(no more sends; sockets keep receiving for `settle` seconds, so the last messages have time
to arrive) and `snapshot()`, which every process hands to one place (the Locust master, or
the process itself when it runs alone). There `summarise()` lines the sends of all
processes up against the windows of all connections: expected = sends to the stream with
`start <= sent_at <= end`.

That is the *live-connection* figure: pushes to sockets while they were open. It says
nothing about what a person saw: a message sent while someone's socket was reconnecting is
owed to no connection. The *per-person* figure answers that: a person (one load-test user,
whatever its sockets did) is owed every message sent to its room, and every announcement,
from its first connection until the end of the run (or until the server refused it for
good), and is credited with each distinct message it holds by then, live or replayed on
resume. Resuming is what this figure measures: without it, a reconnecting person misses what
was sent meanwhile.

Plain Python, no Locust: the tests use it directly.
"""

import bisect
import math
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

ANNOUNCEMENTS = "*"  # the stream every socket hears, whatever its room


class Seen(Enum):
    NEW = "new"
    LATE = "late"  # new, but after a later one from the same sender (fills a gap)
    DUPLICATE = "duplicate"


class SenderSequence:
    """Which of one sender's sequence numbers a user has seen. Keeps only the gaps, so it
    stays small while delivery is complete."""

    __slots__ = ("missing", "next")

    def __init__(self) -> None:
        self.next: int | None = None
        self.missing: set[int] = set()

    def see(self, seq: int) -> Seen:
        if self.next is None or seq == self.next:
            self.next = seq + 1
            return Seen.NEW
        if seq > self.next:
            self.missing.update(range(self.next, seq))
            self.next = seq + 1
            return Seen.NEW
        if seq in self.missing:
            self.missing.discard(seq)
            return Seen.LATE
        return Seen.DUPLICATE


class Inbox:
    """Everything one load-test user has seen, across its reconnections."""

    def __init__(self) -> None:
        self.senders: dict[str, SenderSequence] = {}

    def see(self, sender: str, seq: int) -> Seen:
        sequence = self.senders.get(sender)
        if sequence is None:
            sequence = self.senders[sender] = SenderSequence()
        return sequence.see(seq)


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


def latency_bucket(ms: float) -> int:
    """Milliseconds rounded as Locust rounds them: 2 significant digits above 100 ms."""
    if ms < 100:
        return round(ms)
    if ms < 1000:
        return int(round(ms, -1))
    return int(round(ms, -2))


def percentile_of(buckets: Mapping[int, int], fraction: float) -> int | None:
    """The `fraction` percentile of a histogram {bucket ms: count}."""
    total = sum(buckets.values())
    if not total:
        return None
    rank = fraction * total
    seen = 0
    for bucket in sorted(buckets):
        seen += buckets[bucket]
        if seen >= rank:
            return bucket
    return max(buckets)


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

    def connection_failed(self, reason: str, host: str = "") -> None:
        if not self.frozen:
            self.connect_failures[reason] += 1
            self.failures_by_host[host] += 1

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
            "attempts": self.attempts,
            "unconfirmed": {
                stream: sorted(t for (s, _, _), t in self.unconfirmed.items() if s == stream)
                for stream in {key[0] for key in self.unconfirmed}
            },
        }


def _count_between(times: Sequence[float], start: float, end: float) -> int:
    if end < start:
        return 0
    return bisect.bisect_right(times, end) - bisect.bisect_left(times, start)


def _ratio(received: int, expected: int) -> float | None:
    if not expected:
        return None
    ratio = round(received / expected, 6)
    # Never 1 while anything is missing (1 short of 2,000,000 rounds to 1): a threshold of
    # ">=1" must see the shortfall.
    return min(ratio, 0.999999) if received < expected else ratio


def summarise(snapshots: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Combine the snapshots of every process of a run into one completeness summary."""
    snapshots = list(snapshots)
    sends: dict[str, list[float]] = {}
    for snapshot in snapshots:
        for stream, times in snapshot.get("sends", {}).items():
            sends.setdefault(stream, []).extend(float(t) for t in times)
    for times in sends.values():
        times.sort()
    records = [
        ConnectionRecord.from_dict(data)
        for snapshot in snapshots
        for data in snapshot.get("connections", [])
    ]

    expected: Counter[str] = Counter()
    received: Counter[str] = Counter()
    by_host: dict[str, Counter[str]] = {}
    by_room: dict[str, Counter[str]] = {}
    for record in records:
        host = by_host.setdefault(record.host, Counter())
        room = by_room.setdefault(record.room, Counter())
        host["connections"] += 1
        room["connections"] += 1
        for stream in (record.room, ANNOUNCEMENTS):
            kind = "announcements" if stream == ANNOUNCEMENTS else "chat"
            owed = _count_between(sends.get(stream, ()), record.start, record.end)
            got = record.received.get(stream, 0)
            expected[kind] += owed
            received[kind] += got
            for counts in (host, room):
                counts["expected"] += owed
                counts["received"] += got
    for snapshot in snapshots:
        for name, key in (("failures_by_host", "connect_failures"), ("drops_by_host", "drops")):
            for host_name, n in snapshot.get(name, {}).items():
                by_host.setdefault(host_name, Counter())[key] += int(n)

    connect_failures: Counter[str] = Counter()
    drops: Counter[str] = Counter()
    deliveries: Counter[int] = Counter()
    drop_times: Counter[int] = Counter()
    for snapshot in snapshots:
        connect_failures.update(snapshot.get("connect_failures", {}))
        drops.update(snapshot.get("drops", {}))
        deliveries.update(
            {int(second): int(n) for second, n in snapshot.get("deliveries_per_second", [])}
        )
        drop_times.update(
            {int(second): int(n) for second, n in snapshot.get("drops_per_second", [])}
        )

    unconfirmed: dict[str, list[float]] = {}
    for snapshot in snapshots:
        for stream, times in snapshot.get("unconfirmed", {}).items():
            unconfirmed.setdefault(stream, []).extend(float(t) for t in times)
    for times in unconfirmed.values():
        times.sort()
    people = person_completeness(
        [person for snapshot in snapshots for person in snapshot.get("people", [])],
        sends,
        unconfirmed,
    )

    latencies: dict[str, dict[int, Counter[int]]] = {}
    for snapshot in snapshots:
        for name, seconds in snapshot.get("latencies", {}).items():
            merged = latencies.setdefault(name, {})
            for second, buckets in seconds:
                merged.setdefault(int(second), Counter()).update(
                    {int(bucket): int(n) for bucket, n in buckets.items()}
                )

    total_expected = sum(expected.values())
    total_received = sum(received.values())
    chat_sends = sum(int(s.get("attempts", 0)) for s in snapshots)
    return {
        "processes": len(snapshots),
        "connections": len(records),
        "rooms": len({record.room for record in records}),
        "connect_failures": sum(connect_failures.values()),
        "connect_failures_by_reason": dict(connect_failures),
        "drops": sum(drops.values()),
        "drops_by_reason": dict(drops),
        "sent": {"chat": chat_sends, "announcements": len(sends.get(ANNOUNCEMENTS, ()))},
        "acks": sum(int(s.get("acks", 0)) for s in snapshots),
        "rejected": sum(int(s.get("rejected", 0)) for s in snapshots),
        "unacked": sum(int(s.get("unacked", 0)) for s in snapshots),
        "expected": total_expected,
        "received": total_received,
        "missing": max(0, total_expected - total_received),
        "extra": max(0, total_received - total_expected),
        "ratio": _ratio(total_received, total_expected),
        "person": people,
        "live": {
            "expected": total_expected,
            "received": total_received,
            "missing": max(0, total_expected - total_received),
            "extra": max(0, total_received - total_expected),
            "ratio": _ratio(total_received, total_expected),
        },
        "streams": {
            kind: {
                "expected": expected[kind],
                "received": received[kind],
                "ratio": _ratio(received[kind], expected[kind]),
            }
            for kind in ("chat", "announcements")
        },
        "duplicates": sum(record.duplicates for record in records),
        "out_of_order": sum(record.out_of_order for record in records),
        "before_open": sum(record.before_open for record in records),
        "by_host": breakdown(by_host),
        "by_room": breakdown(by_room),
        "timeline": timeline(records, deliveries, drop_times),
        "latency": latency_per_second(latencies),
    }


def person_completeness(
    people: Sequence[Mapping[str, Any]],
    sends: Mapping[str, Sequence[float]],
    unconfirmed: Mapping[str, Sequence[float]] | None = None,
) -> dict[str, Any]:
    """Per person: what each held at the end against what was sent to its streams while it
    was a member. `extra` counts what a person held beyond that (a message counted twice, or
    sent by a process whose ledger is missing); sends never acknowledged nor seen by their
    sender (`unconfirmed`) may exist, so holding them is not extra. `short` counts the people
    missing anything."""
    unconfirmed = unconfirmed or {}
    expected = credited = missing = extra = short = 0
    for person in people:
        start, end = float(person["start"]), float(person["end"])
        person_missing = 0
        for stream in (str(person["room"]), ANNOUNCEMENTS):
            owed = _count_between(sends.get(stream, ()), start, end)
            maybe = _count_between(unconfirmed.get(stream, ()), start, end)
            held = int(person["received"].get(stream, 0))
            expected += owed
            credited += min(held, owed)
            person_missing += max(0, owed - held)
            extra += max(0, held - owed - maybe)
        missing += person_missing
        short += person_missing > 0
    return {
        "people": len(people),
        "short": short,
        "expected": expected,
        "received": credited,
        "missing": missing,
        "extra": extra,
        "ratio": _ratio(credited, expected),
    }


def breakdown(counts: Mapping[str, Counter[str]]) -> dict[str, dict[str, Any]]:
    """Per server or per room: connections, failures, drops and the live figure."""
    return {
        name: {
            "connections": c["connections"],
            "connect_failures": c["connect_failures"],
            "drops": c["drops"],
            "expected": c["expected"],
            "received": c["received"],
            "ratio": _ratio(c["received"], c["expected"]),
        }
        for name, c in sorted(counts.items())
    }


LATENCY_PERCENTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99, "max": 1.0}


def latency_per_second(latencies: Mapping[str, Mapping[int, Mapping[int, int]]]) -> dict[str, Any]:
    """Per name, each second's count and percentiles; None where nothing was measured."""
    result: dict[str, Any] = {}
    for name, seconds in latencies.items():
        if not seconds:
            continue
        first, last = min(seconds), max(seconds)
        span = range(first, last + 1)
        result[name] = {
            "start": first,
            "count": [sum(seconds.get(second, {}).values()) for second in span],
            **{
                label: [percentile_of(seconds.get(second, {}), fraction) for second in span]
                for label, fraction in LATENCY_PERCENTILES.items()
            },
        }
    return result


def timeline(
    records: Sequence[ConnectionRecord],
    deliveries: Mapping[int, int],
    drops: Mapping[int, int] | None = None,
) -> dict[str, Any]:
    """Open sockets, sockets opened, deliveries and sockets dropped by the server for each
    whole second of the run."""
    drops = drops or {}
    if not records and not deliveries:
        return {"start": None, "open": [], "connects": [], "deliveries": [], "drops": []}
    starts = [math.floor(r.opened_at) for r in records] + list(deliveries)
    ends = [math.ceil(r.closed_at) for r in records] + list(deliveries)
    first, last = min(starts), max(ends)
    change: Counter[int] = Counter()
    connects = Counter(math.floor(record.opened_at) for record in records)
    for record in records:
        # A socket counts as open at second s if it was open at the instant s.
        change[math.ceil(record.opened_at)] += 1
        change[math.ceil(record.closed_at)] -= 1
    open_now = 0
    open_series = []
    for second in range(first, last + 1):
        open_now += change.get(second, 0)
        open_series.append(open_now)
    return {
        "start": first,
        "open": open_series,
        "connects": [connects.get(second, 0) for second in range(first, last + 1)],
        "deliveries": [deliveries.get(second, 0) for second in range(first, last + 1)],
        "drops": [drops.get(second, 0) for second in range(first, last + 1)],
    }


def format_summary(summary: Mapping[str, Any]) -> str:
    """The summary as a few lines for the console."""

    def ratio(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.4f}"

    streams = summary["streams"]
    person = summary["person"]
    lines = [
        f"Per person: {person['received']:,} of {person['expected']:,} "
        f"messages owed to {person['people']:,} people were held by the end "
        f"(ratio {ratio(person['ratio'])}); {person['short']:,} people missed some, "
        f"{person['extra']:,} unexpected",
        f"Per live connection: {summary['received']:,} of {summary['expected']:,} pushes to "
        f"open sockets arrived (ratio {ratio(summary['ratio'])}), {summary['missing']:,} "
        f"missing, {summary['extra']:,} unexpected",
        f"  chat: {streams['chat']['received']:,}/{streams['chat']['expected']:,} "
        f"(ratio {ratio(streams['chat']['ratio'])}) from {summary['sent']['chat']:,} messages, "
        f"{summary['acks']:,} acknowledged, {summary['rejected']:,} rejected, "
        f"{summary['unacked']:,} never acknowledged",
        f"  announcements: {streams['announcements']['received']:,}/"
        f"{streams['announcements']['expected']:,} "
        f"(ratio {ratio(streams['announcements']['ratio'])}) "
        f"from {summary['sent']['announcements']:,} announcements",
        f"  duplicates {summary['duplicates']:,}, out of order {summary['out_of_order']:,}; "
        f"{summary['before_open']:,} arrived though sent before their socket opened "
        f"(replayed on resume, or raced the handshake; not counted)",
        f"  connections {summary['connections']:,} in {summary['rooms']:,} rooms "
        f"from {summary['processes']} process(es); connect failures "
        f"{summary['connect_failures']:,} {summary['connect_failures_by_reason'] or ''}; "
        f"dropped by the server {summary['drops']:,} {summary['drops_by_reason'] or ''}",
    ]
    return "\n".join(line.rstrip() for line in lines)
