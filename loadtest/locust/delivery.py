"""Delivery completeness: what each socket received against what it should have received.

Every socket hears two streams: its room's messages and the site-wide announcements. A socket
is owed every message sent to one of its streams while it was open, give or take two margins:

- `grace` after opening (clock skew between load-generating machines; 0 on one machine:
  the server joins the socket to its groups before the handshake completes, so anything sent
  after the client saw the handshake reaches it), and
- `settle` before closing (a message sent just before a socket closes may still be on its
  way; the last `settle` seconds are left out on both sides of the count).

Each load-generating process keeps a `Ledger` (ledger.py) of what its users sent and, per
connection, how much of each stream arrived inside that window (each user's `Inbox`,
inbox.py, tells a new frame from a duplicate). The run ends in two steps: `quiesce()`
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

This module combines the snapshots (`summarise()`, with per-second latency from latency.py
and the reconnect-storm figure from storms.py) and words the result for the console
(`format_summary()`). Plain Python, no Locust: the tests use it directly.
"""

import bisect
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from loadtest.locust.latency import latency_per_second
from loadtest.locust.ledger import ConnectionRecord
from loadtest.locust.storms import format_storms, storm_summary

ANNOUNCEMENTS = "*"  # the stream every socket hears, whatever its room


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
        "storms": storm_summary(snapshot.get("storms", []) for snapshot in snapshots),
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
    storms = format_storms(summary.get("storms"), summary)
    if storms:
        lines += storms.splitlines()
    return "\n".join(line.rstrip() for line in lines)
