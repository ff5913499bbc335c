"""The reconnect-storm figure: after each storm, how long until every dropped socket was
open again, and how many never came back.

A storm is numbered by the planned instant it begins (scenarios.py: `origin + k * every`,
agreed by every process); its users drop their sockets within `storm_jitter` seconds of it.
Each user tells its process's `StormBook` when it dropped for storm k, each connect attempt
that failed before it was back, and the moment its socket was accepted again (the first frame
of an accepted socket, as for `connect`); a user refused for good meanwhile gave up. A socket
is open again `reopen` ms after the storm's planned instant, so the jitter is part of the
figure. `snapshot()` freezes one process's books as plain data (a histogram per storm, like
the latency per second); `storm_summary()` merges every process's and works out per storm
p50 / p99 / max and the sockets not open again when the run ended (when sending stopped:
after that the kit cuts the page's reconnect delay short, so a later reopen is not timed and
counts as never back). A storm with a socket that never reopened has no recovery time: it is
never a fast storm, and the thresholds on it fail. The master lets no storm start later than
one period before the end (run.py), so each storm has as long to recover as the period.

Plain Python, no Locust: the tests use it directly.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from loadtest.locust.latency import latency_bucket, percentile_of


@dataclass
class StormCounts:
    """One storm as one process saw it."""

    start: float  # the storm's planned instant, wall clock
    dropped: int = 0
    reopen: Counter[int] = field(default_factory=Counter)  # reopen ms, bucketed -> sockets
    reopen_max: float = 0.0  # exact, ms
    # Open again only after sending stopped for the end of the run: the page's delay was cut
    # short then, so its time would flatter the server; counted as never back.
    after_end: int = 0
    failed_attempts: int = 0  # connect attempts refused or failed before the socket was back
    gave_up: int = 0  # refused for good (4401, 4403, 4404, 4409): the user stopped
    first_drop: float | None = None  # seconds after `start`
    last_drop: float | None = None

    def as_dict(self, number: int) -> dict[str, Any]:
        return {
            "storm": number,
            "start": self.start,
            "dropped": self.dropped,
            "reopen": {str(bucket): n for bucket, n in sorted(self.reopen.items())},
            "reopen_max": self.reopen_max,
            "after_end": self.after_end,
            "failed_attempts": self.failed_attempts,
            "gave_up": self.gave_up,
            "first_drop": self.first_drop,
            "last_drop": self.last_drop,
        }


@dataclass
class StormBook:
    """One process's record of the storms: who is down for which storm, and what each
    storm's sockets did until they were back."""

    storms: dict[int, StormCounts] = field(default_factory=dict)
    down: dict[str, int] = field(default_factory=dict)  # person -> the storm it is down for

    def dropped(self, person: str, storm: int, start: float, at: float) -> None:
        """`person` closed its socket for storm number `storm`, planned for `start`."""
        counts = self.storms.setdefault(storm, StormCounts(start=start))
        counts.dropped += 1
        offset = at - start
        counts.first_drop = offset if counts.first_drop is None else min(counts.first_drop, offset)
        counts.last_drop = offset if counts.last_drop is None else max(counts.last_drop, offset)
        self.down[person] = storm

    def attempt_failed(self, person: str) -> None:
        storm = self.down.get(person)
        if storm is not None:
            self.storms[storm].failed_attempts += 1

    def reopened(self, person: str, at: float, *, quiesced: bool = False) -> None:
        """`person`'s socket was accepted again (nothing happens if it was not down); once the
        run is ending (`quiesced`) it is not timed, and counts as never back."""
        storm = self.down.pop(person, None)
        if storm is None:
            return
        counts = self.storms[storm]
        if quiesced:
            counts.after_end += 1
            return
        ms = max(0.0, (at - counts.start) * 1000)
        counts.reopen[latency_bucket(ms)] += 1
        counts.reopen_max = max(counts.reopen_max, ms)

    def gave_up(self, person: str) -> None:
        """`person` was refused for good while down: its socket will not come back."""
        storm = self.down.pop(person, None)
        if storm is not None:
            self.storms[storm].gave_up += 1

    def snapshot(self) -> list[dict[str, Any]]:
        return [counts.as_dict(number) for number, counts in sorted(self.storms.items())]


def storm_summary(books: Iterable[Iterable[Mapping[str, Any]]]) -> dict[str, Any]:
    """Every process's storms merged: one row per storm, the worst storm, and totals. A
    storm's `reopen_p50`/`reopen_p99`/`reopen_max` (ms from its planned instant) are None
    when any of its sockets was not open again when the run ended (`unopened`)."""
    merged: dict[int, StormCounts] = {}
    for book in books:
        for data in book:
            number = int(data["storm"])
            counts = merged.setdefault(number, StormCounts(start=float(data["start"])))
            counts.dropped += int(data["dropped"])
            counts.reopen.update({int(b): int(n) for b, n in data["reopen"].items()})
            counts.reopen_max = max(counts.reopen_max, float(data["reopen_max"]))
            counts.after_end += int(data.get("after_end", 0))
            counts.failed_attempts += int(data["failed_attempts"])
            counts.gave_up += int(data["gave_up"])
            for key, pick in (("first_drop", min), ("last_drop", max)):
                value = data.get(key)
                if value is not None:
                    mine = getattr(counts, key)
                    setattr(counts, key, float(value) if mine is None else pick(mine, value))
    rows = [storm_row(number, counts) for number, counts in sorted(merged.items())]
    return {
        "storms": rows,
        "worst": worst_storm(rows),
        "dropped": sum(row["dropped"] for row in rows),
        "reopened": sum(row["reopened"] for row in rows),
        "unopened": sum(row["unopened"] for row in rows),
        "gave_up": sum(row["gave_up"] for row in rows),
        "failed_attempts": sum(row["failed_attempts"] for row in rows),
    }


def storm_row(number: int, counts: StormCounts) -> dict[str, Any]:
    reopened = sum(counts.reopen.values())
    unopened = max(0, counts.dropped - reopened)
    complete = reopened > 0 and unopened == 0
    return {
        "storm": number,
        "start": counts.start,
        "dropped": counts.dropped,
        "reopened": reopened,
        "unopened": unopened,
        "gave_up": counts.gave_up,
        "failed_attempts": counts.failed_attempts,
        "after_end": counts.after_end,
        "drops_spread": (
            None
            if counts.first_drop is None or counts.last_drop is None
            else round((counts.last_drop - max(counts.first_drop, 0.0)) * 1000)
        ),
        "reopen_p50": reopen_percentile(counts, 0.5) if complete else None,
        "reopen_p99": reopen_percentile(counts, 0.99) if complete else None,
        "reopen_max": round(counts.reopen_max) if complete else None,
    }


def reopen_percentile(counts: StormCounts, fraction: float) -> int | None:
    """A percentile of the bucketed times, never above the exact maximum (2,962 ms falls in
    the 3,000 ms bucket)."""
    value = percentile_of(counts.reopen, fraction)
    return None if value is None else min(value, round(counts.reopen_max))


def worst_storm(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The storm with the most sockets not back, else the slowest to be whole again."""
    rows = list(rows)
    if not rows:
        return None
    return dict(max(rows, key=lambda row: (row["unopened"], row["reopen_max"] or 0)))


def storm_metrics(summary: Mapping[str, Any] | None) -> dict[str, float | None]:
    """The thresholds' storm metrics. No storm at all: no value (a storm threshold on a run
    without storms fails). A storm with a socket not back: no recovery time, so the time
    metrics have no value and fail too."""
    rows = (summary or {}).get("storms") or []
    if not rows:
        return {
            "storm_reopen_p99": None,
            "storm_reopen_max": None,
            "storm_unopened": None,
            "storm_gave_up": None,
        }
    times = [row["reopen_max"] for row in rows]
    p99s = [row["reopen_p99"] for row in rows]
    return {
        "storm_reopen_p99": None if None in p99s else max(p99s),
        "storm_reopen_max": None if None in times else max(times),
        "storm_unopened": sum(row["unopened"] for row in rows),
        "storm_gave_up": sum(row["gave_up"] for row in rows),
    }


def format_storms(summary: Mapping[str, Any] | None, delivery: Mapping[str, Any]) -> str:
    """The storm figure as a few console lines; what was sent meanwhile is the run's
    per-person completeness, duplicates and order (delivery.py), quoted as they are."""
    if not summary or not summary.get("storms"):
        return ""
    rows = summary["storms"]

    def ms(value: float | None) -> str:
        return "n/a" if value is None else f"{value:,.0f}"

    lines = [
        f"Reconnect storms: {len(rows)}; {summary['reopened']:,} of {summary['dropped']:,} "
        f"dropped sockets open again, {summary['unopened']:,} never came back "
        f"({summary['gave_up']:,} refused for good), {summary['failed_attempts']:,} "
        f"connect attempts failed meanwhile"
    ]
    for row in rows:
        lines.append(
            f"  storm {row['storm']}: {row['reopened']:,}/{row['dropped']:,} open again, "
            f"p50 {ms(row['reopen_p50'])} ms, p99 {ms(row['reopen_p99'])} ms, "
            f"max {ms(row['reopen_max'])} ms after its start; {row['unopened']:,} not back"
            + (f" ({row['after_end']:,} only after the run ended)" if row["after_end"] else "")
            + f", {row['failed_attempts']:,} failed attempts"
        )
    worst = summary["worst"]
    person = delivery["person"]
    ratio = "n/a" if person["ratio"] is None else f"{person['ratio']:.4f}"
    slowest = (
        f"{worst['unopened']:,} not back"
        if worst["unopened"]
        else f"all back within {ms(worst['reopen_max'])} ms"
    )
    lines.append(
        f"  worst storm {worst['storm']}: {slowest}; meanwhile (whole run) per person "
        f"{person['received']:,} of {person['expected']:,} held ({ratio}), "
        f"duplicates {delivery['duplicates']:,}, out of order {delivery['out_of_order']:,}"
    )
    return "\n".join(lines)
