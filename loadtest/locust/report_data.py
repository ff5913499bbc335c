"""Reading a run's results for the report: Locust's CSV files (the stats table, its history
over time, the failures) and the kit's completeness summary (`PREFIX_delivery.json`).

Plain Python, no matplotlib.
"""

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PERCENTILES = ("50%", "90%", "99%", "100%")
LATENCY_NAMES = ("deliver", "announcement", "connect", "ack", "replay")


@dataclass
class Series:
    """One request name's rows of the stats history, in time order."""

    times: list[float] = field(default_factory=list)  # epoch seconds
    users: list[float] = field(default_factory=list)
    rps: list[float] = field(default_factory=list)
    percentiles: dict[str, list[float]] = field(default_factory=dict)  # NaN where no data


@dataclass
class Results:
    prefix: Path
    history: dict[str, Series]  # by request name; "Aggregated" too
    stats: list[dict[str, str]]  # the final stats table
    delivery: dict[str, Any] | None
    failures: list[dict[str, str]]


def csv_number(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "", "N/A") else math.nan
    except ValueError:
        return math.nan


def find_prefix(path: Path, prefix: str | None = None) -> Path:
    """The CSV prefix of the run in `path` (a directory, or a prefix itself)."""
    if prefix:
        return path / prefix if path.is_dir() else Path(prefix)
    if not path.is_dir():
        return path
    runs = sorted(p.name[: -len("_stats.csv")] for p in path.glob("*_stats.csv"))
    if not runs:
        raise FileNotFoundError(f"No Locust CSV files (*_stats.csv) in {path}; run with --csv")
    if len(runs) > 1:
        raise ValueError(f"Several runs in {path}: {', '.join(runs)}; pick one with --prefix")
    return path / runs[0]


def read_history(path: Path) -> dict[str, Series]:
    history: dict[str, Series] = {}
    if not path.exists():
        return history
    with path.open(newline="") as file:
        for row in csv.DictReader(file):
            series = history.setdefault(row["Name"], Series())
            series.times.append(csv_number(row["Timestamp"]))
            series.users.append(csv_number(row["User Count"]))
            series.rps.append(csv_number(row["Requests/s"]))
            for column in PERCENTILES:
                series.percentiles.setdefault(column, []).append(csv_number(row.get(column)))
    return history


def read_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def read_results(path: Path, prefix: str | None = None) -> Results:
    base = find_prefix(path, prefix)
    stats_path = Path(f"{base}_stats.csv")
    if not stats_path.exists():
        raise FileNotFoundError(f"{stats_path} does not exist")
    delivery_path = Path(f"{base}_delivery.json")
    delivery = json.loads(delivery_path.read_text()) if delivery_path.exists() else None
    return Results(
        prefix=base,
        history=read_history(Path(f"{base}_stats_history.csv")),
        stats=read_rows(stats_path),
        delivery=delivery,
        failures=read_rows(Path(f"{base}_failures.csv")),
    )


def start_time(results: Results) -> float:
    starts = [s.times[0] for s in results.history.values() if s.times]
    if results.delivery and results.delivery["timeline"].get("start") is not None:
        starts.append(float(results.delivery["timeline"]["start"]))
    return min(starts) if starts else 0.0


def latency_series(results: Results) -> dict[str, Series]:
    """The request names worth a latency plot; the aggregate when there is no full history."""
    found = {name: results.history[name] for name in LATENCY_NAMES if name in results.history}
    if not found and "Aggregated" in results.history:
        found = {
            "all requests (run with --csv-full-history for each)": results.history["Aggregated"]
        }
    return found
