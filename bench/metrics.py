"""Pure helpers that turn the client processes' replies into the numbers we publish."""

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

NS_PER_S = 1_000_000_000
PERCENTILES = (50, 90, 99)

Reply = Mapping[str, Any]


def percentile(ordered: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile of an ascending sequence (0 when it is empty)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return float(ordered[rank - 1])


def summary(values: Iterable[float], *, scale: float = 1.0, digits: int = 1) -> dict[str, float]:
    """p50/p90/p99/max of `values`, each multiplied by `scale`."""
    ordered = sorted(values)
    result = {f"p{p}": round(percentile(ordered, p) * scale, digits) for p in PERCENTILES}
    result["max"] = round((ordered[-1] if ordered else 0.0) * scale, digits)
    return result


def counter_sum(mappings: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for mapping in mappings:
        total.update(mapping)
    return dict(total)


def opened(replies: Sequence[Reply], *, since_ns: int | None = None) -> dict[str, Any]:
    """Connection counts, failures and connect times of an open (or storm) phase."""
    started = min((r["started_ns"] for r in replies), default=0) if since_ns is None else since_ns
    finished = max((r["finished_ns"] for r in replies), default=started)
    count = sum(r["opened"] for r in replies)
    seconds = max(finished - started, 1) / NS_PER_S
    return {
        "attempted": sum(r["attempted"] for r in replies),
        "opened": count,
        "failed": sum(r["failed"] for r in replies),
        "failures": counter_sum(r["failures"] for r in replies),
        "http_500": counter_sum(r["failures"] for r in replies).get("http 500", 0),
        "seconds": round(seconds, 3),
        "per_second": round(count / seconds, 1),
        "connect_ms": summary((ms for r in replies for ms in r["connect_ms"]), digits=1),
    }


def delivered(
    replies: Sequence[Reply], *, members: Mapping[str, int], start_ns: int, send_seconds: float
) -> dict[str, Any]:
    """Delivery completeness, rate and latency of a chat phase.

    Every message sent to a room is expected once on every connection that was open in that
    room when sending began (`members`), the sender's own included.
    """
    sent = counter_sum(r["sent"] for r in replies)
    expected = sum(count * members.get(room, 0) for room, count in sent.items())
    received = sum(r["received"] for r in replies)
    last_ns = max((r["last_received_ns"] for r in replies), default=0)
    span = max(last_ns - start_ns, 1) / NS_PER_S if received else 0.0
    messages = sum(sent.values())
    return {
        "messages_sent": messages,
        "messages_per_second": round(messages / send_seconds, 1) if send_seconds else 0.0,
        "send_errors": counter_sum(r["send_errors"] for r in replies),
        "acks": sum(r["acks"] for r in replies),
        "rejections": sum(r["rejections"] for r in replies),
        "expected": expected,
        "received": received,
        "duplicates": sum(r["duplicates"] for r in replies),
        "out_of_order": sum(r["out_of_order"] for r in replies),
        "ratio": round(received / expected, 4) if expected else 0.0,
        "deliveries_per_second": round(received / span, 1) if span else 0.0,
        "latency_ms": summary(
            (us for r in replies for us in r["latencies_us"]), scale=0.001, digits=1
        ),
    }


def client_cpu_percent(replies: Sequence[Reply]) -> float:
    """The client processes' CPU over the phase, as a percentage of one core."""
    wall = max((r["wall_s"] for r in replies), default=0.0)
    return round(100 * sum(r["cpu_s"] for r in replies) / wall, 1) if wall else 0.0


def per_connection_kb(*, baseline_kb: int, loaded_kb: int, connections: int) -> float:
    return round((loaded_kb - baseline_kb) / connections, 1) if connections else 0.0
