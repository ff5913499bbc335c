"""Turn a run's results into PNG plots and one HTML page.

    python -m loadtest.locust.report results/ -o report/

reads what a run left in `results/`: Locust's CSV files (`--csv results/run`, best with
`--csv-full-history`, which gives each request name its own rows over time) and the kit's
completeness summary (`run_delivery.json`), and writes `report/index.html` with
`latency.png`, `connections.png` and `deliveries.png` beside it.

Reading (report_data.py) is plain Python; only drawing (report_plots.py) needs matplotlib. The
tables are report_tables.py; this module lays out the page.
"""

import argparse
import html
import sys
from collections.abc import Sequence
from pathlib import Path

from loadtest.locust.report_data import Results, read_results
from loadtest.locust.report_plots import plot_connections, plot_deliveries, plot_latency
from loadtest.locust.report_tables import (
    comparison_html,
    delivery_html,
    html_table,
    stats_html,
    storms_html,
)

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
        html_table(
            ["Method", "Name", "Error", "Occurrences"],
            [[f["Method"], f["Name"], f["Error"], f["Occurrences"]] for f in results.failures],
        )
        if results.failures
        else "<p>None.</p>"
    )
    storms = storms_html(results.delivery)
    storms = f"<h2>Reconnect storms</h2>{storms}" if storms else ""
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
{storms}
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
