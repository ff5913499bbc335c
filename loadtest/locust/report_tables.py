"""The report's HTML tables: the verdict, completeness, per server and per room, the
comparison with a baseline run, and Locust's request statistics.
"""

import html
from collections.abc import Mapping, Sequence
from typing import Any

from loadtest.locust.report_data import Results, csv_number

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


def _cell(value: object) -> str:
    if isinstance(value, float):
        value = f"{value:,.1f}"
    return f"<td>{html.escape(str(value))}</td>"


def html_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
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
    table = html_table(
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
    return html_table(
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
        + html_table(["completeness", "owed", "held / arrived", "missing", "ratio"], rows)
        + html_table(["", ""], facts)
        + breakdowns
        + ("<h3>Plan</h3>" + html_table(["setting", "value"], plan_rows) if plan_rows else "")
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
    return f"<p>Baseline: <code>{html.escape(str(baseline.prefix))}_*</code></p>" + html_table(
        ["metric", "baseline", "this run", "change"], rows
    )


def stats_html(stats: Sequence[Mapping[str, str]]) -> str:
    rows = [[row.get(column, "") for column, _ in TABLE_COLUMNS] for row in stats]
    for row in rows:
        per_second = row[-1]
        row[-1] = f"{csv_number(per_second):,.1f}" if per_second else ""
    return html_table([label for _, label in TABLE_COLUMNS], rows)


def storms_html(delivery: Mapping[str, Any] | None) -> str:
    """One row per reconnect storm: how long until its dropped sockets were open again, and
    how many never came back; then what was sent meanwhile (the run's own figures)."""
    storms = (delivery or {}).get("storms") or {}
    rows = storms.get("storms") or []
    if not delivery or not rows:
        return ""

    def ms(value: float | None) -> str:
        return "not all back" if value is None else f"{value:,.0f}"

    table = html_table(
        [
            "storm",
            "dropped",
            "open again",
            "never back",
            "of which back after the end",
            "refused for good",
            "failed attempts",
            "p50 ms",
            "p99 ms",
            "max ms",
        ],
        [
            [
                row["storm"],
                row["dropped"],
                row["reopened"],
                row["unopened"],
                row.get("after_end", 0),
                row["gave_up"],
                row["failed_attempts"],
                ms(row["reopen_p50"]),
                ms(row["reopen_p99"]),
                ms(row["reopen_max"]),
            ]
            for row in rows
        ],
    )
    worst = storms["worst"]
    slowest = (
        f"{worst['unopened']:,} never back"
        if worst["unopened"]
        else f"all back within {ms(worst['reopen_max'])} ms"
    )
    person = delivery["person"]
    meanwhile = (
        f"per person {person['received']:,} of {person['expected']:,} held "
        f"({_ratio(person['ratio'])}), {delivery['duplicates']:,} duplicates, "
        f"{delivery['out_of_order']:,} out of order"
    )
    verdict = "warn" if storms["unopened"] else "ok"
    return (
        "<p>Times are from each storm's start until the socket was accepted again (the jitter "
        "of the drops included). A socket not open again when sending stopped for the end of "
        "the run counts as never back, and a storm with one has no time.</p>"
        + table
        + f'<p class="{verdict}">'
        + html.escape(
            f"Worst: storm {worst['storm']}, {slowest}. Meanwhile (whole run): {meanwhile}."
        )
        + "</p>"
    )
