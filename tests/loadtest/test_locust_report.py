"""The report turns a run's CSV files and completeness summary into plots and a page."""

import csv
import json
import math

import pytest

from loadtest.locust.delivery import summarise
from loadtest.locust.inbox import Seen
from loadtest.locust.ledger import Connection, Ledger
from loadtest.locust.report import main
from loadtest.locust.report_data import find_prefix, latency_series, read_results, start_time
from loadtest.locust.report_plots import outage_bands, plot_latency_per_second, storm_bands
from loadtest.locust.thresholds import evaluate, metrics_of, thresholds_for

pytest.importorskip("matplotlib")

T0 = 1_790_000_000
HISTORY_COLUMNS = [
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
    *["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"],
    "Total Request Count",
    "Total Failure Count",
]
STATS_COLUMNS = [
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Requests/s",
    *["50%", "90%", "99%", "100%"],
]


def write_csv(path, columns, rows):
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, columns, restval="")
        writer.writeheader()
        writer.writerows(rows)


def history_row(second, name, users, rps, p50):
    """One row of Locust's stats history; p50 None for "N/A" (no requests in the window)."""
    factors = {"50%": 1, "90%": 2, "99%": 3, "100%": 4}
    percentiles = {
        column: "N/A" if p50 is None else p50 * factor for column, factor in factors.items()
    }
    return {
        "Timestamp": T0 + second,
        "User Count": users,
        "Type": "WS",
        "Name": name,
        "Requests/s": rps,
        "Failures/s": 0,
        **percentiles,
    }


def synthetic_run(directory, *, full_history=True, delivery=True, thresholds=(), storms=False):
    rows = []
    for second in range(10):
        users = min(100, 20 * second)
        if full_history:
            rows.append(history_row(second, "connect", users, 20, 50 if second else None))
            rows.append(history_row(second, "deliver", users, 200, 10 + second))
        rows.append({**history_row(second, "Aggregated", users, 220, 12), "Type": ""})
    write_csv(directory / "run_stats_history.csv", HISTORY_COLUMNS, rows)
    write_csv(
        directory / "run_stats.csv",
        STATS_COLUMNS,
        [
            {"Type": "WS", "Name": "connect", "Request Count": 100, "Requests/s": 10, "50%": 50},
            {"Type": "WS", "Name": "deliver", "Request Count": 2000, "99%": 30, "100%": 40},
            {"Type": "", "Name": "Aggregated", "Request Count": 2100},
        ],
    )
    write_csv(
        directory / "run_failures.csv",
        ["Method", "Name", "Error", "Occurrences"],
        [{"Method": "WS", "Name": "connect", "Error": "HTTP 500 <b>", "Occurrences": 2}],
    )
    if delivery:
        ledger = Ledger(settle=1.0)
        connection: Connection = ledger.opened("load-test", T0 + 0.5)
        ledger.joined("u0", "load-test", T0 + 0.5)
        for n in range(5):
            ledger.record_send("load-test", T0 + 1 + n)
            ledger.person_received("u0", "load-test", T0 + 1 + n)
            connection.deliver("load-test", T0 + 1 + n, T0 + 1.1 + n, Seen.NEW, n + 1)
            ledger.record_delivery(T0 + 1.1 + n)
            if n != 2:  # nothing arrives in one second: a gap in the plot
                ledger.record_latency("deliver", T0 + 1.1 + n, 100 + n)
        if storms:  # storm 1: two sockets back; storm 2: one of two never back
            for person, storm, back in (("u0", 1, 1.5), ("u1", 1, 2.75), ("u0", 2, 0.5)):
                ledger.storm_dropped(person, storm, T0 + 2 * storm, T0 + 2 * storm + 0.1)
                ledger.storm_reopened(person, T0 + 2 * storm + back)
            ledger.storm_dropped("u1", 2, T0 + 4, T0 + 4.2)
        summary = summarise([ledger.snapshot(T0 + 9)])
        summary["plan"] = {"scenario": "fanout", "run": "abc123"}
        summary["host"] = "http://127.0.0.1:8000"
        values = metrics_of(summary, {"deliver_p99": 30.0})
        summary["metrics"] = values
        summary["thresholds"] = evaluate(thresholds_for(thresholds), values)
        (directory / "run_delivery.json").write_text(json.dumps(summary))


def test_report_writes_plots_and_a_page(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    synthetic_run(results)

    assert main([str(results), "-o", str(tmp_path / "report")]) == 0

    for name in ("latency.png", "connections.png", "deliveries.png"):
        data = (tmp_path / "report" / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), name
        assert len(data) > 5000, name
    page = (tmp_path / "report" / "index.html").read_text()
    assert "Passed: every threshold held." in page
    assert "per person (1 people, 0 missed some)" in page
    assert "scenario fanout, run abc123" in page
    assert '<img src="latency.png"' in page
    assert "HTTP 500 &lt;b&gt;" in page  # escaped
    assert "<td>deliver</td>" in page


def test_the_storms_get_a_table_with_a_row_each(tmp_path):
    synthetic_run(tmp_path, storms=True, thresholds=["storm_reopen_max<=15000"])
    assert main([str(tmp_path), "-o", str(tmp_path / "out")]) == 0
    page = (tmp_path / "out" / "index.html").read_text()
    assert "<h2>Reconnect storms</h2>" in page
    cells = "".join(f"<td>{cell}</td>" for cell in (1, 2, 2, 0, 0, 0, 0, "1,500", "2,750", "2,750"))
    assert f"<tr>{cells}</tr>" in page
    never = "not all back"
    cells = "".join(f"<td>{cell}</td>" for cell in (2, 2, 1, 1, 0, 0, 0, never, never, never))
    assert f"<tr>{cells}</tr>" in page
    assert "Worst: storm 2, 1 never back. Meanwhile (whole run): per person" in page
    assert "<td>storm_reopen_max&lt;=15000</td><td>no value</td><td>FAIL</td>" in page
    synthetic_run(tmp_path)
    assert main([str(tmp_path), "-o", str(tmp_path / "out")]) == 0
    assert "Reconnect storms" not in (tmp_path / "out" / "index.html").read_text()


def test_the_verdict_follows_the_thresholds(tmp_path):
    synthetic_run(tmp_path, thresholds=["deliver_p99<=20"])
    assert main([str(tmp_path), "-o", str(tmp_path / "out")]) == 0
    page = (tmp_path / "out" / "index.html").read_text()
    assert "Failed: deliver_p99&lt;=20." in page
    assert "<td>deliver_p99&lt;=20</td><td>30</td><td>FAIL</td>" in page


def test_several_servers_and_rooms_get_a_table_each(tmp_path):
    synthetic_run(tmp_path)
    summary = json.loads((tmp_path / "run_delivery.json").read_text())
    row = {"connections": 3, "connect_failures": 1, "drops": 0, "expected": 9, "received": 9}
    summary["by_host"] = {
        "http://127.0.0.1:8001": {**row, "ratio": 1.0},
        "http://127.0.0.1:8002": {**row, "received": 6, "ratio": 0.666667},
    }
    (tmp_path / "run_delivery.json").write_text(json.dumps(summary))
    assert main([str(tmp_path), "-o", str(tmp_path / "out")]) == 0
    page = (tmp_path / "out" / "index.html").read_text()
    assert "<h3>Per server</h3>" in page
    assert (
        "<td>http://127.0.0.1:8002</td><td>3</td><td>1</td><td>0</td><td>9</td><td>6</td>" in page
    )
    assert "<h3>Per room</h3>" not in page  # one room: nothing to break down


def test_latency_is_plotted_per_second_with_storms_marked(tmp_path):
    synthetic_run(tmp_path)
    summary = json.loads((tmp_path / "run_delivery.json").read_text())
    assert summary["latency"]["deliver"]["p50"] == [100, 100, None, 100, 100]
    summary["plan"]["storm_every"], summary["plan"]["storm_jitter"] = 2.0, 0.5
    (tmp_path / "run_delivery.json").write_text(json.dumps(summary))
    results = read_results(tmp_path)
    start = start_time(results)
    assert storm_bands(results, start, start + 5) == [
        (k * 2.0 - start, k * 2.0 + 0.5 - start)
        for k in range(math.ceil(start / 2), math.floor((start + 5) / 2) + 1)
    ]
    assert plot_latency_per_second(results, tmp_path / "latency.png")
    assert (tmp_path / "latency.png").read_bytes().startswith(b"\x89PNG")


def test_sockets_dropped_outside_the_storms_are_marked_as_outages(tmp_path):
    synthetic_run(tmp_path)
    summary = json.loads((tmp_path / "run_delivery.json").read_text())
    first = summary["timeline"]["start"]
    summary["timeline"]["drops"] = [0, 3, 1, 0, 2, 0]
    (tmp_path / "run_delivery.json").write_text(json.dumps(summary))
    results = read_results(tmp_path)
    start = start_time(results)
    offset = first - start
    # Two runs of seconds with drops: the first two seconds merge into one band.
    assert outage_bands(results, start) == [(offset + 1, offset + 3), (offset + 4, offset + 5)]
    assert plot_latency_per_second(results, tmp_path / "latency.png")

    # Drops inside a planned reconnect storm are the storm, not an outage.
    summary["plan"]["storm_every"], summary["plan"]["storm_jitter"] = 1.0, 1.0
    (tmp_path / "run_delivery.json").write_text(json.dumps(summary))
    assert outage_bands(read_results(tmp_path), start) == []


def test_one_storm_counted_from_the_run_s_start_is_one_band(tmp_path):
    synthetic_run(tmp_path)
    summary = json.loads((tmp_path / "run_delivery.json").read_text())
    start = summary["timeline"]["start"]
    summary["plan"].update(storm_every=2.0, storm_jitter=0.0, storms=1, storm_origin=start - 1)
    (tmp_path / "run_delivery.json").write_text(json.dumps(summary))
    results = read_results(tmp_path)
    at = start_time(results)
    assert storm_bands(results, at, at + 30) == [(start + 1 - at, start + 1 - at)]


def test_without_full_history_or_summary_it_plots_what_there_is(tmp_path):
    synthetic_run(tmp_path, full_history=False, delivery=False)
    results = read_results(tmp_path)
    assert list(latency_series(results)) == ["all requests (run with --csv-full-history for each)"]
    assert main([str(tmp_path), "-o", str(tmp_path / "out")]) == 0
    page = (tmp_path / "out" / "index.html").read_text()
    assert "No completeness summary" in page
    assert (tmp_path / "out" / "latency.png").exists()
    assert not (tmp_path / "out" / "deliveries.png").exists()


def test_a_run_compared_with_a_baseline(tmp_path):
    for name in ("base", "new"):
        (tmp_path / name).mkdir()
        synthetic_run(tmp_path / name)
    summary = json.loads((tmp_path / "new" / "run_delivery.json").read_text())
    summary["metrics"]["deliver_p99"] = 45.0
    summary["metrics"]["drops"] = 2
    (tmp_path / "new" / "run_delivery.json").write_text(json.dumps(summary))
    argv = [
        str(tmp_path / "new"),
        "-o",
        str(tmp_path / "out"),
        "--baseline",
        str(tmp_path / "base"),
    ]
    assert main(argv) == 0
    page = (tmp_path / "out" / "index.html").read_text()
    assert "<h2>Compared with the baseline</h2>" in page
    assert "<td>deliver_p99</td><td>30</td><td>45</td><td>+15 (+50%)</td>" in page
    assert "<td>drops</td><td>0</td><td>2</td><td>+2</td>" in page
    assert "<td>connect_p95</td><td>no value</td><td>no value</td><td></td>" in page


def test_finding_the_run(tmp_path, capsys):
    assert main([str(tmp_path), "-o", str(tmp_path / "out")]) == 2
    assert "No Locust CSV files" in capsys.readouterr().err

    (tmp_path / "a_stats.csv").write_text("Type,Name\n")
    (tmp_path / "b_stats.csv").write_text("Type,Name\n")
    with pytest.raises(ValueError, match="--prefix"):
        find_prefix(tmp_path)
    assert find_prefix(tmp_path, "b") == tmp_path / "b"
    assert find_prefix(tmp_path / "a") == tmp_path / "a"
