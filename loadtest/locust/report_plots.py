"""The report's plots: latency per second (or Locust's rolling percentiles when the run has
no per-second figures), open sockets and connects, and deliveries per second, with reconnect
storms and server-side drops shaded.

Only this module needs matplotlib, imported when a plot is drawn.
"""

import math
from collections.abc import Sequence
from pathlib import Path

from loadtest.locust.report_data import (
    LATENCY_NAMES,
    PERCENTILES,
    Results,
    latency_series,
    start_time,
)


def _relative(times: Sequence[float], start: float) -> list[float]:
    return [t - start for t in times]


def storm_bands(results: Results, start: float, end: float) -> list[tuple[float, float]]:
    """The reconnect storms of the run, relative to `start`: every socket drops within
    [origin + k * storm_every, ... + storm_jitter] seconds of the wall clock (scenarios.py)."""
    plan = (results.delivery or {}).get("plan") or {}
    every, jitter = float(plan.get("storm_every") or 0), float(plan.get("storm_jitter") or 0)
    origin, limit = float(plan.get("storm_origin") or 0), int(plan.get("storms") or 0)
    if every <= 0:
        return []
    first, last = math.ceil((start - origin) / every), math.floor((end - origin) / every)
    if limit:  # storms 1 .. limit from the run's start
        first, last = max(first, 1), min(last, limit)
    return [
        (origin + k * every - start, origin + k * every + jitter - start)
        for k in range(first, last + 1)
    ]


def outage_bands(results: Results, start: float) -> list[tuple[float, float]]:
    """The seconds, relative to `start`, in which the server dropped sockets outside the
    planned reconnect storms (an outage, a restart, a refusal wave), merged into runs."""
    timeline = (results.delivery or {}).get("timeline") or {}
    drops = timeline.get("drops") or []
    if timeline.get("start") is None or not any(drops):
        return []
    first = float(timeline["start"]) - start
    storms = storm_bands(results, start, float(timeline["start"]) + len(drops))
    bands: list[tuple[float, float]] = []
    for n, count in enumerate(drops):
        second = first + n
        if not count or any(a - 1 <= second <= b for a, b in storms):
            continue
        if bands and bands[-1][1] == second:
            bands[-1] = (bands[-1][0], second + 1)
        else:
            bands.append((second, second + 1))
    return bands


def plot_latency_per_second(results: Results, path: Path) -> bool:
    """Each second's own percentiles; a second in which nothing arrived is left empty."""
    from matplotlib.figure import Figure

    latency = (results.delivery or {}).get("latency") or {}
    names = [name for name in LATENCY_NAMES if name in latency]
    if not names:
        return False
    start = start_time(results)
    figure = Figure(figsize=(9, 2.6 * len(names)), layout="constrained")
    axes = figure.subplots(len(names), 1, squeeze=False, sharex=True)[:, 0]
    end = max(latency[n]["start"] + len(latency[n]["count"]) for n in names)
    bands = storm_bands(results, start, end)
    outages = outage_bands(results, start)
    for ax, name in zip(axes, names, strict=True):
        data = latency[name]
        times = [data["start"] - start + n for n in range(len(data["count"]))]
        for label in ("p50", "p95", "p99", "max"):
            values = [math.nan if v is None else v for v in data[label]]
            ax.plot(times, values, label=label, linewidth=1.2, marker="." if label == "p50" else "")
        for band_start, band_end in bands:
            ax.axvspan(band_start, band_end, color="tab:red", alpha=0.12, linewidth=0)
        for band_start, band_end in outages:
            ax.axvspan(band_start, band_end, color="tab:gray", alpha=0.25, linewidth=0)
        title = f"{name}: latency per second (gaps: nothing arrived"
        title += "; red: reconnect storms" if bands else ""
        title += "; grey: sockets dropped by the server" if outages else ""
        title += ")"
        ax.set_title(title, loc="left", fontsize=10)
        ax.set_ylabel("ms")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8, ncols=4)
    axes[-1].set_xlabel("seconds since start")
    figure.savefig(path, dpi=110)
    return True


def plot_latency(results: Results, path: Path) -> bool:
    from matplotlib.figure import Figure

    if plot_latency_per_second(results, path):
        return True
    series = latency_series(results)
    if not series:
        return False
    start = start_time(results)
    figure = Figure(figsize=(9, 2.6 * len(series)), layout="constrained")
    axes = figure.subplots(len(series), 1, squeeze=False)[:, 0]
    for ax, (name, data) in zip(axes, series.items(), strict=True):
        times = _relative(data.times, start)
        for column in PERCENTILES:
            label = "max" if column == "100%" else f"p{column.rstrip('%')}"
            ax.plot(times, data.percentiles[column], label=label, linewidth=1.2)
        ax.set_title(f"{name}: latency (Locust's rolling 10 s window)", loc="left", fontsize=10)
        ax.set_ylabel("ms")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8, ncols=len(PERCENTILES))
    axes[-1].set_xlabel("seconds since start")
    figure.savefig(path, dpi=110)
    return True


def plot_connections(results: Results, path: Path) -> bool:
    from matplotlib.figure import Figure

    start = start_time(results)
    figure = Figure(figsize=(9, 3.2), layout="constrained")
    ax = figure.subplots()
    drawn = False
    timeline = results.delivery["timeline"] if results.delivery else None
    if timeline and timeline.get("start") is not None:
        first = float(timeline["start"]) - start
        opened = timeline["open"]
        ax.step([first + n for n in range(len(opened))], opened, where="post", label="open sockets")
        drawn = True
    aggregated = results.history.get("Aggregated")
    if aggregated and aggregated.times:
        times = _relative(aggregated.times, start)
        ax.plot(times, aggregated.users, "--", label="Locust users", linewidth=1)
        drawn = True
    if timeline and any(timeline.get("connects", ())):
        first = float(timeline["start"]) - start
        twin = ax.twinx()
        connects = timeline["connects"]
        twin.bar(
            [first + n for n in range(len(connects))],
            connects,
            width=1.0,
            align="edge",
            color="tab:green",
            alpha=0.35,
            label="sockets opened per second",
        )
        twin.set_ylabel("opened per second")
        twin.set_ylim(bottom=0)
        twin.legend(loc="upper right", fontsize=8)
    if not drawn:
        return False
    ax.set_title("Connections", loc="left", fontsize=10)
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("sockets")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    figure.savefig(path, dpi=110)
    return True


def plot_deliveries(results: Results, path: Path) -> bool:
    from matplotlib.figure import Figure

    start = start_time(results)
    figure = Figure(figsize=(9, 3.2), layout="constrained")
    ax = figure.subplots()
    timeline = results.delivery["timeline"] if results.delivery else None
    if timeline and timeline.get("start") is not None and any(timeline["deliveries"]):
        first = float(timeline["start"]) - start
        counts = timeline["deliveries"]
        ax.bar([first + n for n in range(len(counts))], counts, width=1.0, align="edge")
        ax.set_title("Deliveries per second (counted by the receivers)", loc="left", fontsize=10)
    else:
        names = [n for n in ("deliver", "announcement") if n in results.history]
        if not names:
            return False
        for name in names:
            data = results.history[name]
            ax.plot(_relative(data.times, start), data.rps, label=name)
        ax.legend(loc="upper left", fontsize=8)
        ax.set_title("Deliveries per second (Locust)", loc="left", fontsize=10)
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("deliveries/s")
    ax.grid(alpha=0.3)
    figure.savefig(path, dpi=110)
    return True
