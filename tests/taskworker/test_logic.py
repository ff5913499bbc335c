from datetime import UTC, datetime, timedelta

import pytest

from taskworker.logic import RunningTask, backoff_delay, backoff_schedule, stale_task_ids

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
GRACE = timedelta(seconds=60)


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(1, 5.0), (2, 10.0), (3, 20.0), (4, 40.0), (7, 300.0), (30, 300.0)],
)
def test_backoff_doubles_up_to_the_cap(attempt, expected):
    assert backoff_delay(attempt, base=5, cap=300) == expected


def test_backoff_schedule_has_one_wait_between_each_two_tries():
    assert backoff_schedule(4, base=5, cap=300) == [5.0, 10.0, 20.0]
    assert backoff_schedule(1, base=5, cap=300) == []


def test_attempts_are_numbered_from_one():
    with pytest.raises(ValueError, match="from 1"):
        backoff_delay(0, base=5, cap=300)


@pytest.mark.parametrize(
    ("task", "stale"),
    [
        # Its worker beats: not stale however long it runs.
        (RunningTask("a", "alive", NOW - timedelta(hours=3)), False),
        # Its worker stopped beating, and it was claimed long ago.
        (RunningTask("b", "dead", NOW - timedelta(seconds=61)), True),
        # Just claimed by a worker whose first beat has not been seen: give it time.
        (RunningTask("c", "new", NOW - timedelta(seconds=5)), False),
        # Claimed by nobody known (a worker without heartbeats), long ago.
        (RunningTask("d", None, NOW - timedelta(minutes=5)), True),
        (RunningTask("e", "dead", None), True),
    ],
)
def test_stale_tasks_are_those_of_silent_workers(task, stale):
    found = stale_task_ids([task], live_workers={"alive"}, now=NOW, grace=GRACE)
    assert found == ([task.id] if stale else [])
