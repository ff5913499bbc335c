"""The reconnect-storm figure: each process's books, merged, and the thresholds on them."""

import json
from typing import Any

import pytest

from loadtest.locust.delivery import format_summary, summarise
from loadtest.locust.ledger import Ledger
from loadtest.locust.storms import StormBook, format_storms, storm_metrics, storm_summary
from loadtest.locust.thresholds import evaluate, parse, thresholds_for, verdict

START = 1_000.0  # storm 1's planned instant


def book(*events):
    """A StormBook after `events`: (what, person, *args)."""
    storms = StormBook()
    for what, person, *args in events:
        getattr(storms, what)(person, *args)
    return storms


def test_a_socket_is_open_again_the_time_after_its_storm_began():
    storms = book(
        ("dropped", "a", 1, START, START + 0.2),
        ("attempt_failed", "a"),
        ("reopened", "a", START + 1.5),
    )
    assert storms.snapshot() == [
        {
            "storm": 1,
            "start": START,
            "dropped": 1,
            "reopen": {"1500": 1},
            "reopen_max": 1500.0,
            "after_end": 0,
            "failed_attempts": 1,
            "gave_up": 0,
            "first_drop": pytest.approx(0.2),
            "last_drop": pytest.approx(0.2),
        }
    ]
    assert storms.down == {}


def test_a_connect_not_after_a_storm_is_nobody_s_recovery():
    storms = book(("attempt_failed", "a"), ("reopened", "a", START))
    assert storms.snapshot() == []


def test_processes_merge_into_one_row_per_storm():
    first = book(
        ("dropped", "a", 1, START, START),
        ("reopened", "a", START + 0.05),
        ("dropped", "a", 2, START + 20, START + 20.5),
        ("reopened", "a", START + 21),
    )
    second = book(
        ("dropped", "b", 1, START, START + 0.3),
        ("reopened", "b", START + 1.962),  # in the 2,000 ms bucket
        ("dropped", "c", 1, START, START + 0.1),
        ("reopened", "c", START + 0.9),
    )
    summary = storm_summary(json.loads(json.dumps([first.snapshot(), second.snapshot()])))
    one, two = summary["storms"]
    assert one == {
        "storm": 1,
        "start": START,
        "dropped": 3,
        "reopened": 3,
        "unopened": 0,
        "gave_up": 0,
        "failed_attempts": 0,
        "after_end": 0,
        "drops_spread": 300,
        "reopen_p50": 900,
        "reopen_p99": 1962,  # the bucket's 2,000 ms, but never above the maximum
        "reopen_max": 1962,
    }
    assert (two["storm"], two["reopen_p50"], two["reopen_max"]) == (2, 1000, 1000)
    assert summary["worst"] == one
    assert (summary["dropped"], summary["reopened"], summary["unopened"]) == (4, 4, 0)


@pytest.mark.parametrize(
    ("events", "unopened", "gave_up"),
    [
        # Still retrying when the run ended.
        ([("dropped", "b", 1, START, START), ("attempt_failed", "b")], 1, 0),
        # Refused for good (4409): it stopped trying.
        ([("dropped", "b", 1, START, START), ("gave_up", "b")], 1, 1),
    ],
)
def test_a_storm_with_a_socket_that_never_came_back_has_no_time(events, unopened, gave_up):
    storms = book(("dropped", "a", 1, START, START), ("reopened", "a", START + 0.1), *events)
    summary = storm_summary([storms.snapshot()])
    row = summary["storms"][0]
    assert (row["dropped"], row["reopened"], row["unopened"]) == (2, 1, unopened)
    assert row["gave_up"] == gave_up
    assert (row["reopen_p50"], row["reopen_p99"], row["reopen_max"]) == (None, None, None)
    assert storm_metrics(summary) == {
        "storm_reopen_p99": None,
        "storm_reopen_max": None,
        "storm_unopened": unopened,
        "storm_gave_up": gave_up,
    }


def test_the_worst_storm_is_the_one_with_sockets_not_back_even_if_others_were_slower():
    storms = book(
        ("dropped", "a", 1, START, START),
        ("reopened", "a", START + 14),
        ("dropped", "a", 2, START + 20, START + 20),
        ("dropped", "b", 2, START + 20, START + 20),
        ("reopened", "b", START + 20.1),
    )
    summary = storm_summary([storms.snapshot()])
    assert summary["worst"]["storm"] == 2
    assert summary["worst"]["unopened"] == 1


@pytest.mark.parametrize(
    ("reopen_after", "criteria", "passed"),
    [
        (14.9, ["storm_reopen_max<=15000", "storm_unopened<=0"], True),
        (15.2, ["storm_reopen_max<=15000", "storm_unopened<=0"], False),
        (None, ["storm_reopen_max<=15000"], False),  # a socket never back: never fast
        (None, ["storm_unopened<=0"], False),
        (1.0, ["storm_reopen_p99<=2000", "storm_gave_up<=0"], True),
    ],
)
def test_thresholds_on_the_storm_figure(reopen_after, criteria, passed):
    events: list[tuple[Any, ...]] = [
        ("dropped", "a", 1, START, START),
        ("dropped", "b", 1, START, START),
        ("reopened", "a", START + 0.5),
    ]
    if reopen_after is not None:
        events.append(("reopened", "b", START + reopen_after))
    values = storm_metrics(storm_summary([book(*events).snapshot()]))
    assert verdict(evaluate([parse(text) for text in criteria], values)) is passed


def test_a_run_without_storms_fails_a_storm_threshold():
    values = storm_metrics(storm_summary([]))
    assert set(values.values()) == {None}
    rows = evaluate(thresholds_for(["storm_unopened<=0"]), values)
    assert rows[0] == {
        "metric": "storm_unopened",
        "criterion": "storm_unopened<=0",
        "value": None,
        "passed": False,
    }


def test_the_ledger_keeps_the_storms_until_its_snapshot():
    ledger = Ledger()
    ledger.storm_dropped("a", 1, START, START + 0.1)
    ledger.connection_failed("1013 try again later", "http://h", person="a")
    ledger.storm_dropped("b", 1, START, START + 0.2)
    ledger.left("b", START + 0.5)  # refused for good
    ledger.storm_dropped("d", 1, START, START + 0.1)
    ledger.storm_reopened("d", START + 0.9)
    ledger.quiesce(START + 1)
    ledger.storm_reopened("a", START + 1.2)  # after sending stopped: back-off cut short
    snapshot = ledger.snapshot(START + 2)
    ledger.storm_dropped("c", 1, START, START + 3)  # frozen: ignored
    (row,) = summarise([snapshot])["storms"]["storms"]
    # d was back in time; a only once the run was ending (not timed), b never.
    assert (row["dropped"], row["reopened"], row["unopened"], row["gave_up"]) == (3, 1, 2, 1)
    assert (row["failed_attempts"], row["after_end"], row["reopen_max"]) == (1, 1, None)
    assert ledger.storms.storms[1].dropped == 3


def test_the_summary_prints_one_line_per_storm_and_what_was_sent_meanwhile():
    ledger = Ledger()
    ledger.storm_dropped("a", 3, START, START)
    ledger.storm_reopened("a", START + 1.25)
    ledger.storm_dropped("b", 4, START + 15, START + 15)
    summary = summarise([ledger.snapshot(START + 20)])
    assert format_storms(summary["storms"], summary).splitlines() == [
        "Reconnect storms: 2; 1 of 2 dropped sockets open again, 1 never came back "
        "(0 refused for good), 0 connect attempts failed meanwhile",
        "  storm 3: 1/1 open again, p50 1,200 ms, p99 1,200 ms, max 1,250 ms after its start; "
        "0 not back, 0 failed attempts",
        "  storm 4: 0/1 open again, p50 n/a ms, p99 n/a ms, max n/a ms after its start; "
        "1 not back, 0 failed attempts",
        "  worst storm 4: 1 not back; meanwhile (whole run) per person 0 of 0 "
        "held (n/a), duplicates 0, out of order 0",
    ]
    assert "Reconnect storms: 2" in format_summary(summary)
    assert "Reconnect storms" not in format_summary(summarise([Ledger().snapshot(START)]))
