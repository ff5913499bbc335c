"""Turn a run's results into PNG plots and one HTML page.

    python -m loadtest.locust.report results/ -o report/

reads what a run left in `results/`: Locust's CSV files (`--csv results/run`, best with
`--csv-full-history`, which gives each request name its own rows over time) and the kit's
completeness summary (`run_delivery.json`), and writes `report/index.html` with
`latency.png`, `connections.png` and `deliveries.png` beside it.

Reading is plain Python; only drawing needs matplotlib.
"""

import argparse
import csv
import html
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PERCENTILES = ("50%", "90%", "99%", "100%")
LATENCY_NAMES = ("deliver", "announcement", "connect", "ack", "replay")
TABLE_COLUMNS = (
    ("Type", "Type"),
    ("Name", "Name"),
    ("Request Count", "Requests"),
    ("Failure Count", "Failures"),
    ("50%", "p50 ms"),
    ("90%", "p90 ms"),
    ("99%", "p99 ms"),
    ("100%", "max ms"),
    ("Requests/s", "per s"),
)


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


def _number(text: str | None) -> float:
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
            series.times.append(_number(row["Timestamp"]))
            series.users.append(_number(row["User Count"]))
            series.rps.append(_number(row["Requests/s"]))
            for column in PERCENTILES:
                series.percentiles.setdefault(column, []).append(_number(row.get(column)))
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


# -- drawing -------------------------------------------------------------------------------


def _relative(times: Sequence[float], start: float) -> list[float]:
    return [t - start for t in times]


def storm_bands(results: Results, start: float, end: float) -> list[tuple[float, float]]:
    """The reconnect storms of the run, relative to `start`: every socket drops within
    [k * storm_every, k * storm_every + storm_jitter] seconds of the wall clock."""
    plan = (results.delivery or {}).get("plan") or {}
    every, jitter = float(plan.get("storm_every") or 0), float(plan.get("storm_jitter") or 0)
    if every <= 0:
        return []
    first = math.ceil(start / every)
    return [
        (k * every - start, k * every + jitter - start)
        for k in range(first, math.floor(end / every) + 1)
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


# -- the page ------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if isinstance(value, float):
        value = f"{value:,.1f}"
    return f"<td>{html.escape(str(value))}</td>"


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def verdict_html(delivery: Mapping[str, Any]) -> str:
    """The run's verdict: its thresholds' (older summaries without them: no verdict)."""
    rows = delivery.get("thresholds")
    if rows is None:
        return '<p class="warn">No thresholds in this summary: no verdict.</p>'
    failed = [row for row in rows if not row["passed"]]
    verdict = (
        "Passed: every threshold held."
        if not failed
        else "Failed: " + ", ".join(row["criterion"] for row in failed) + "."
    )
    table = _table(
        ["threshold", "value", ""],
        [
            [
                row["criterion"],
                "no value" if row["value"] is None else f"{row['value']:g}",
                "pass" if row["passed"] else "FAIL",
            ]
            for row in rows
        ],
    )
    return f'<p class="{"warn" if failed else "ok"}">{html.escape(verdict)}</p>' + table


def breakdown_table(label: str, rows: Mapping[str, Mapping[str, Any]]) -> str:
    return _table(
        [label, "connections", "connect failures", "drops", "live: owed", "arrived", "ratio"],
        [
            [
                name,
                row["connections"],
                row["connect_failures"],
                row["drops"],
                row["expected"],
                row["received"],
                _ratio(row["ratio"]),
            ]
            for name, row in rows.items()
        ],
    )


def delivery_html(delivery: Mapping[str, Any] | None) -> str:
    if not delivery:
        return "<p>No completeness summary (<code>*_delivery.json</code>) was found.</p>"
    streams = delivery["streams"]
    person = delivery.get("person")
    rows = [
        *(
            [
                [
                    f"per person ({person['people']:,} people, {person['short']:,} missed some)",
                    person["expected"],
                    person["received"],
                    person["missing"],
                    _ratio(person["ratio"]),
                ]
            ]
            if person
            else []
        ),
        [
            "per live connection",
            delivery["expected"],
            delivery["received"],
            delivery["missing"],
            _ratio(delivery["ratio"]),
        ],
        *(
            [
                f"per live connection: {kind}",
                streams[kind]["expected"],
                streams[kind]["received"],
                max(0, streams[kind]["expected"] - streams[kind]["received"]),
                _ratio(streams[kind]["ratio"]),
            ]
            for kind in ("chat", "announcements")
        ),
    ]
    facts = [
        ["messages sent", delivery["sent"]["chat"]],
        ["announcements sent", delivery["sent"]["announcements"]],
        [
            "acknowledged / rejected / never acknowledged",
            f"{delivery['acks']} / {delivery['rejected']} / {delivery['unacked']}",
        ],
        ["duplicate frames (the page drops these by message id)", delivery["duplicates"]],
        ["out of order (by message id)", delivery["out_of_order"]],
        ["arrived though sent before their socket opened (not counted)", delivery["before_open"]],
        ["connections", delivery["connections"]],
        [
            "connect failures",
            f"{delivery['connect_failures']} {delivery['connect_failures_by_reason'] or ''}",
        ],
        ["dropped by the server", f"{delivery['drops']} {delivery['drops_by_reason'] or ''}"],
        ["load-generating processes", delivery["processes"]],
        ["of which sent no ledger", delivery.get("missing_ledgers", 0)],
        ["held beyond what was owed (per person)", person["extra"] if person else "n/a"],
    ]
    plan = delivery.get("plan") or {}
    plan_rows = [[key, value] for key, value in plan.items()]
    breakdowns = "".join(
        f"<h3>{title}</h3>" + breakdown_table(label, delivery[key])
        for key, title, label in (
            ("by_host", "Per server", "server"),
            ("by_room", "Per room", "room"),
        )
        if len(delivery.get(key) or {}) > 1
    )
    return (
        verdict_html(delivery)
        + _table(["completeness", "owed", "held / arrived", "missing", "ratio"], rows)
        + _table(["", ""], facts)
        + breakdowns
        + ("<h3>Plan</h3>" + _table(["setting", "value"], plan_rows) if plan_rows else "")
    )


def comparison_html(delivery: Mapping[str, Any] | None, baseline: Results) -> str:
    """Every metric of this run next to the baseline run's, with the change."""
    here = (delivery or {}).get("metrics") or {}
    there = (baseline.delivery or {}).get("metrics") or {}
    if not here or not there:
        return "<p>No metrics to compare (both runs need a <code>*_delivery.json</code>).</p>"
    rows = []
    for metric in sorted(set(here) | set(there)):
        new, old = here.get(metric), there.get(metric)
        change = ""
        if isinstance(new, (int, float)) and isinstance(old, (int, float)):
            change = f"{new - old:+g}" + (f" ({(new - old) / old:+.0%})" if old else "")
        rows.append(
            [
                metric,
                "no value" if old is None else f"{old:g}",
                "no value" if new is None else f"{new:g}",
                change,
            ]
        )
    return f"<p>Baseline: <code>{html.escape(str(baseline.prefix))}_*</code></p>" + _table(
        ["metric", "baseline", "this run", "change"], rows
    )


def stats_html(stats: Sequence[Mapping[str, str]]) -> str:
    rows = [[row.get(column, "") for column, _ in TABLE_COLUMNS] for row in stats]
    for row in rows:
        per_second = row[-1]
        row[-1] = f"{_number(per_second):,.1f}" if per_second else ""
    return _table([label for _, label in TABLE_COLUMNS], rows)


STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 62rem; padding: 0 1rem;
       color: #1d2329; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; } h3 { font-size: 1rem; }
table { border-collapse: collapse; margin: .75rem 0; font-size: 14px; }
th, td { border-bottom: 1px solid #dde2e6; padding: .25rem .7rem; text-align: left; }
td:not(:first-child) { font-variant-numeric: tabular-nums; }
img { max-width: 100%; border: 1px solid #dde2e6; }
.ok { color: #176b32; font-weight: 600; } .warn { color: #a3300b; font-weight: 600; }
code { background: #f2f4f6; padding: 0 .25rem; }
"""


def write_report(results: Results, out: Path, baseline: Results | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    images = []
    for name, plot, alt in (
        ("latency.png", plot_latency, "Latency percentiles over time"),
        ("connections.png", plot_connections, "Open sockets and Locust users over time"),
        ("deliveries.png", plot_deliveries, "Deliveries per second"),
    ):
        if plot(results, out / name):
            images.append(f'<p><img src="{name}" alt="{html.escape(alt)}"></p>')
    delivery = results.delivery or {}
    title = "Load test report"
    subtitle = ""
    if delivery.get("plan"):
        plan = delivery["plan"]
        subtitle = f"scenario {plan['scenario']}, run {plan['run']}, target {delivery.get('host')}"
    failures = (
        _table(
            ["Method", "Name", "Error", "Occurrences"],
            [[f["Method"], f["Name"], f["Error"], f["Occurrences"]] for f in results.failures],
        )
        if results.failures
        else "<p>None.</p>"
    )
    comparison = (
        "<h2>Compared with the baseline</h2>" + comparison_html(results.delivery, baseline)
        if baseline is not None
        else ""
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{STYLE}</style></head><body>
<h1>{title}</h1>
<p>{html.escape(subtitle)} &middot; from <code>{html.escape(str(results.prefix))}_*</code></p>
<h2>Verdict and completeness</h2>
{delivery_html(results.delivery)}
{comparison}
<h2>Over time</h2>
{"".join(images) or "<p>No history to plot (run Locust with --csv).</p>"}
<h2>Requests (Locust)</h2>
<p>Request type WS: <code>connect</code> is the handshake to the first frame of an accepted
socket, <code>refused CODE</code> a socket the server refused with that close code,
<code>drop CODE</code> an open socket the server or the network closed, <code>deliver</code>
a chat message from its sender's send to its arrival, <code>announcement</code> likewise from
the staff POST, <code>replay</code> a message caught up after reconnecting, <code>ack</code> a
send to its acknowledgement.</p>
{stats_html(results.stats)}
<h2>Failures</h2>
{failures}
</body></html>
"""
    index = out / "index.html"
    index.write_text(page)
    return index


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.locust.report", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("results", type=Path, help="directory (or CSV prefix) of the run")
    parser.add_argument("-o", "--output", type=Path, default=Path("report"))
    parser.add_argument("--prefix", help="the run's CSV prefix, if the directory has several")
    parser.add_argument(
        "--baseline", type=Path, help="directory (or CSV prefix) of a run to compare with"
    )
    parser.add_argument("--baseline-prefix", help="the baseline's CSV prefix, if needed")
    args = parser.parse_args(argv)
    try:
        results = read_results(args.results, args.prefix)
        baseline = read_results(args.baseline, args.baseline_prefix) if args.baseline else None
    except (OSError, ValueError) as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    index = write_report(results, args.output, baseline)
    print(f"Report written to {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
