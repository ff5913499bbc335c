"""Latency histograms: milliseconds bucketed as Locust buckets them, and per-second
percentiles of those buckets (a second with nothing measured stays empty, unlike Locust's
rolling window).

Plain Python, no Locust: the tests use it directly.
"""

from collections.abc import Mapping
from typing import Any


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
