"""Thresholds: parsing, defaults, and a verdict that no empty run can pass."""

import csv

import pytest

from loadtest.locust.delivery import person_completeness
from loadtest.locust.results import output_paths, write_thresholds_csv
from loadtest.locust.samples import SampleWriter, worker_path
from loadtest.locust.thresholds import (
    DEFAULTS,
    Threshold,
    evaluate,
    format_rows,
    metrics_of,
    parse,
    thresholds_for,
    verdict,
)


@pytest.mark.parametrize(
    ("text", "threshold"),
    [
        ("deliver_p99<=500", Threshold("deliver_p99", "<=", 500.0)),
        (" person_completeness >= 0.999 ", Threshold("person_completeness", ">=", 0.999)),
        ("drops==0", Threshold("drops", "==", 0.0)),
        ("connect_failure_rate<0.01", Threshold("connect_failure_rate", "<", 0.01)),
    ],
)
def test_parse(text, threshold):
    assert parse(text) == threshold


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("deliver_p99 500", "is not like"),
        ("latency<=500", "unknown metric 'latency'"),
        ("drops<=1.2.3", "is not a number"),
    ],
)
def test_parse_refuses(text, message):
    with pytest.raises(ValueError, match=message):
        parse(text)


def test_defaults_apply_unless_the_metric_is_given():
    chosen = thresholds_for(["connect_failure_rate<=0.05", "deliver_p99<=300"])
    assert [str(t) for t in chosen] == [
        "connect_failure_rate<=0.05",
        "deliver_p99<=300",
        "person_completeness>=1",
        "extra_deliveries<=0",
        "missing_ledgers<=0",
        "announcer_failures<=0",
    ]
    assert [str(t) for t in thresholds_for([])] == list(DEFAULTS)


def test_a_plan_that_sends_nothing_is_not_held_to_person_completeness():
    assert "person_completeness>=1" not in [str(t) for t in thresholds_for([], messages=False)]
    given = thresholds_for(["person_completeness>=1"], messages=False)
    assert "person_completeness>=1" in [str(t) for t in given]


def test_a_metric_without_a_value_fails_its_threshold():
    rows = evaluate([parse("deliver_p99<=500")], {"deliver_p99": None})
    assert rows == [
        {"metric": "deliver_p99", "criterion": "deliver_p99<=500", "value": None, "passed": False}
    ]
    assert verdict(rows) is False
    assert "FAIL  deliver_p99<=500" in format_rows(rows)


# The defaults' metrics at passing values.
PASSING = {
    "person_completeness": 1.0,
    "connect_failure_rate": 0.0,
    "extra_deliveries": 0,
    "missing_ledgers": 0,
    "announcer_failures": 0,
}


def summary(**changes):
    base = {
        "connections": 8,
        "connect_failures": 2,
        "ratio": 0.5,
        "drops": 3,
        "rejected": 4,
        "person": {"ratio": 0.75, "extra": 1},
        "missing_ledgers": 1,
        "announcer_failures": 0,
    }
    return {**base, **changes}


def test_metrics_of_a_run():
    values = metrics_of(summary(), {"connect_p95": 40.0, "deliver_p99": 120.0})
    assert values == {
        "person_completeness": 0.75,
        "live_completeness": 0.5,
        "connect_failure_rate": 0.2,
        "connect_p95": 40.0,
        "connect_p99": None,
        "deliver_p95": None,
        "deliver_p99": 120.0,
        "drops": 3,
        "rejected_sends": 4,
        "extra_deliveries": 1,
        "missing_ledgers": 1,
        "announcer_failures": 0,
        "storm_reopen_p99": None,
        "storm_reopen_max": None,
        "storm_unopened": None,
        "storm_gave_up": None,
    }


def test_sends_the_server_refused_can_fail_a_run():
    values = metrics_of(summary(), {})
    assert verdict(evaluate(thresholds_for(["rejected_sends<=0"]), values)) is False
    assert verdict(evaluate(thresholds_for(["rejected_sends<=4"]), {**values, **PASSING})) is True


def test_a_run_with_no_connect_attempt_has_no_failure_rate_and_fails():
    values = metrics_of(summary(connections=0, connect_failures=0), {})
    assert values["connect_failure_rate"] is None
    assert verdict(evaluate(thresholds_for([]), values)) is False


def test_every_threshold_reaches_the_csv(tmp_path):
    rows = evaluate(
        thresholds_for(["deliver_p99<=500"]), metrics_of(summary(), {"deliver_p99": 80.0})
    )
    path = tmp_path / "run_thresholds.csv"
    write_thresholds_csv(str(path), rows)
    with path.open() as file:
        written = list(csv.DictReader(file))
    assert [(r["criterion"], r["value"], r["passed"]) for r in written] == [
        ("deliver_p99<=500", "80.0", "1"),
        ("person_completeness>=1", "0.75", "0"),
        ("connect_failure_rate<=0", "0.2", "0"),
        ("extra_deliveries<=0", "1", "0"),
        ("missing_ledgers<=0", "1", "0"),
        ("announcer_failures<=0", "0", "1"),
    ]


@pytest.mark.parametrize(
    ("delivery_json", "prefix", "paths"),
    [
        (None, "results/run", ("results/run_delivery.json", "results/run_thresholds.csv")),
        ("out/x.json", None, ("out/x.json", "out/x_thresholds.csv")),
        ("out/x_delivery.json", "r/p", ("out/x_delivery.json", "r/p_thresholds.csv")),
        (None, None, (None, None)),
    ],
)
def test_output_paths(delivery_json, prefix, paths):
    assert output_paths(delivery_json=delivery_json, csv_prefix=prefix) == paths


def test_samples_are_written_as_they_come(tmp_path):
    path = tmp_path / "out" / "samples.csv"
    writer = SampleWriter(str(path))
    writer.write(at=1.5, name="deliver", ms=12.3456, host="http://h", room="r", user="u")
    writer.close()
    assert path.read_text().splitlines() == [
        "time,name,ms,host,room,user",
        "1.500000,deliver,12.346,http://h,r,u",
    ]
    assert worker_path("results/run_samples.csv", 2) == "results/run_samples-w2.csv"
    assert worker_path("samples", 0) == "samples-w0.csv"


def test_one_message_missing_in_millions_fails_person_completeness():
    owed = 2_000_000
    people = [{"start": 0.0, "end": 10.0, "room": "r", "received": {"r": owed - 1}}]
    person = person_completeness(people, {"r": [1.0] * owed})
    assert (person["missing"], person["ratio"]) == (1, 0.999999)
    values = metrics_of(summary(person={**person, "extra": 0}), {})
    assert parse("person_completeness>=1").holds(values["person_completeness"]) is False


def test_one_connect_failure_in_millions_fails_the_default():
    values = metrics_of(summary(connections=3_000_000, connect_failures=1), {})
    assert parse("connect_failure_rate<=0").holds(values["connect_failure_rate"]) is False
