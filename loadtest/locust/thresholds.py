"""Pass/fail criteria for a run, in the style of k6's `thresholds` and Artillery's `ensure`.

    --threshold "person_completeness>=1" --threshold "deliver_p99<=500"

Each criterion names a metric of the run, a comparison and a number. The run's verdict (and
Locust's exit code) is a pass only when every criterion holds; a metric with no value (nothing
was measured) fails its criterion, so an empty run cannot pass. `DEFAULTS` apply unless a
criterion on the same metric is given (`--threshold "connect_failure_rate<=0.05"` loosens one).

Plain Python, no Locust: the tests use it directly.
"""

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loadtest.locust.storms import storm_metrics

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
}

METRICS = {
    "person_completeness": "messages each person held by the end / owed (0..1)",
    "live_completeness": "pushes that reached open sockets / owed to them (0..1)",
    "connect_failure_rate": "failed connects / connect attempts (0..1)",
    "connect_p95": "connect time, 95th percentile, ms",
    "connect_p99": "connect time, 99th percentile, ms",
    "deliver_p95": "delivery latency of live messages, 95th percentile, ms",
    "deliver_p99": "delivery latency of live messages, 99th percentile, ms",
    "drops": "sockets the server or the network closed",
    "rejected_sends": "chat sends the server refused (flood control, a bad message)",
    "extra_deliveries": "messages held beyond what was sent (a process's ledger is missing)",
    "missing_ledgers": "load-generating processes whose ledger never arrived",
    "announcer_failures": "announcements that could not be posted",
    "storm_reopen_p99": "reconnect storms: worst storm's p99 time until a dropped socket was "
    "open again, ms from the storm's start (no value if a socket never came back)",
    "storm_reopen_max": "reconnect storms: worst storm's time until its last dropped socket was "
    "open again, ms from the storm's start (no value if a socket never came back)",
    "storm_unopened": "reconnect storms: dropped sockets not open again when the run ended",
    "storm_gave_up": "reconnect storms: dropped sockets refused for good while reconnecting",
}

DEFAULTS = (
    "person_completeness>=1",
    "connect_failure_rate<=0",
    "extra_deliveries<=0",
    "missing_ledgers<=0",
    "announcer_failures<=0",
)

_CRITERION_RE = re.compile(r"^\s*([a-z0-9_]+)\s*(<=|>=|==|<|>)\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class Threshold:
    metric: str
    op: str
    limit: float

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.limit:g}"

    def holds(self, value: float | None) -> bool:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        return OPERATORS[self.op](value, self.limit)


def parse(text: str) -> Threshold:
    match = _CRITERION_RE.match(text)
    if not match:
        raise ValueError(f"Threshold {text!r} is not like deliver_p99<=500")
    metric, op, number = match.groups()
    if metric not in METRICS:
        raise ValueError(
            f"Threshold {text!r}: unknown metric {metric!r}; one of {', '.join(METRICS)}"
        )
    try:
        limit = float(number)
    except ValueError:
        raise ValueError(f"Threshold {text!r}: {number!r} is not a number") from None
    return Threshold(metric, op, limit)


def thresholds_for(given: Sequence[str], *, messages: bool = True) -> list[Threshold]:
    """The given criteria, and the defaults for metrics not given. A run whose plan sends no
    message (`messages` false: the idle preset) owes nobody anything, so the default on
    person_completeness is left out; given explicitly, it applies (and fails: no value)."""
    chosen = [parse(text) for text in given]
    named = {threshold.metric for threshold in chosen}
    if not messages:
        named.add("person_completeness")
    chosen += [t for t in map(parse, DEFAULTS) if t.metric not in named]
    return chosen


def metrics_of(
    summary: Mapping[str, Any], percentiles: Mapping[str, float | None]
) -> dict[str, float | None]:
    """Every metric's value for a run: `summary` from delivery.summarise (with the run's
    extra facts), `percentiles` like {"connect_p95": 41.0, ...} from Locust's statistics."""
    attempts = summary["connections"] + summary["connect_failures"]
    person = summary["person"]
    return {
        "person_completeness": person["ratio"],
        "live_completeness": summary["ratio"],
        "connect_failure_rate": (
            failure_rate(summary["connect_failures"], attempts) if attempts else None
        ),
        "connect_p95": percentiles.get("connect_p95"),
        "connect_p99": percentiles.get("connect_p99"),
        "deliver_p95": percentiles.get("deliver_p95"),
        "deliver_p99": percentiles.get("deliver_p99"),
        "drops": summary["drops"],
        "rejected_sends": summary.get("rejected", 0),
        "extra_deliveries": person["extra"],
        "missing_ledgers": summary.get("missing_ledgers", 0),
        "announcer_failures": summary.get("announcer_failures", 0),
        **storm_metrics(summary.get("storms")),
    }


def failure_rate(failures: int, attempts: int) -> float:
    rate = round(failures / attempts, 6)
    # Never 0 while anything failed (1 in 3,000,000 rounds to 0): "<=0" must see it.
    return max(rate, 0.000001) if failures else rate


def evaluate(
    thresholds: Sequence[Threshold], values: Mapping[str, float | None]
) -> list[dict[str, Any]]:
    """One row per threshold: its metric, criterion, the run's value and whether it held."""
    return [
        {
            "metric": threshold.metric,
            "criterion": str(threshold),
            "value": values.get(threshold.metric),
            "passed": threshold.holds(values.get(threshold.metric)),
        }
        for threshold in thresholds
    ]


def verdict(rows: Sequence[Mapping[str, Any]]) -> bool:
    return all(row["passed"] for row in rows)


def format_rows(rows: Sequence[Mapping[str, Any]]) -> str:
    lines = []
    for row in rows:
        value = "no value" if row["value"] is None else f"{row['value']:g}"
        mark = "pass" if row["passed"] else "FAIL"
        lines.append(f"  {mark}  {row['criterion']:<28} (value: {value})")
    head = "Thresholds: all passed" if verdict(rows) else "Thresholds: FAILED"
    return "\n".join([head, *lines])
