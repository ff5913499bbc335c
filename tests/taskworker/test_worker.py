"""Heartbeats and the reclaiming of tasks whose worker died, against the task tables."""

import time
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.tasks.base import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from notifications.tasks import send_digests
from taskworker import worker
from taskworker.models import WorkerHeartbeat
from taskworker.worker import Heartbeat, heartbeat_beat, own_tasks_requeue, stale_tasks_reclaim
from tests.taskworker.failing import failing_first
from tests.waiting import eventually

pytestmark = pytest.mark.django_db


def running_task(worker_id, *, started_ago):
    result = send_digests.enqueue()
    DBTaskResult.objects.filter(id=result.id).update(
        status=TaskResultStatus.RUNNING,
        worker_ids=[worker_id],
        started_at=timezone.now() - started_ago,
    )
    return result.id


def status_of(task_id):
    return DBTaskResult.objects.get(id=task_id).status


def test_tasks_of_a_worker_that_stopped_beating_go_back_to_the_queue(settings):
    settings.TASK_WORKER_STALE_AFTER = 30
    heartbeat_beat(worker_id="alive")
    heartbeat_beat(worker_id="dead")
    WorkerHeartbeat.objects.filter(worker_id="dead").update(
        seen_at=timezone.now() - timedelta(minutes=5)
    )
    mine = running_task("alive", started_ago=timedelta(hours=1))
    orphan = running_task("dead", started_ago=timedelta(minutes=6))
    unknown = running_task("never-beat", started_ago=timedelta(minutes=1))
    fresh = running_task("starting-up", started_ago=timedelta(seconds=2))

    assert sorted(stale_tasks_reclaim()) == sorted([orphan, unknown])
    assert status_of(orphan) == TaskResultStatus.READY
    assert DBTaskResult.objects.get(id=orphan).started_at is None
    assert status_of(unknown) == TaskResultStatus.READY
    assert status_of(mine) == TaskResultStatus.RUNNING
    assert status_of(fresh) == TaskResultStatus.RUNNING


def test_a_worker_hands_back_the_tasks_an_outage_interrupted_and_only_its_own():
    interrupted = running_task("w1", started_ago=timedelta(seconds=5))
    other = running_task("w2", started_ago=timedelta(seconds=5))

    assert own_tasks_requeue(worker_id="w1") == [str(interrupted)]

    assert status_of(interrupted) == TaskResultStatus.READY
    assert status_of(other) == TaskResultStatus.RUNNING


def test_old_heartbeats_are_forgotten():
    heartbeat_beat(worker_id="ancient")
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(days=2))
    stale_tasks_reclaim()
    assert not WorkerHeartbeat.objects.exists()


def seen_at(worker_id: str) -> datetime | None:
    # The test database is in-memory SQLite shared between threads, where a write in the
    # heartbeat's thread locks the table for a moment instead of making readers wait.
    for _ in range(100):
        try:
            return (
                WorkerHeartbeat.objects.filter(worker_id=worker_id)
                .values_list("seen_at", flat=True)
                .first()
            )
        except OperationalError:
            time.sleep(0.01)  # a retry: the writer holds the lock for a moment
    raise AssertionError("the heartbeat table stayed locked")


def test_a_heartbeat_beats_at_start_and_is_removed_at_stop(settings, transactional_db):
    settings.TASK_WORKER_HEARTBEAT = 0.05
    heartbeat = Heartbeat("w1")
    heartbeat.start()
    try:
        first = seen_at("w1")
        assert first is not None, "no heartbeat at start"
        eventually(lambda: seen_at("w1") != first, what="the next beat", timeout=5)
    finally:
        heartbeat.stop()
    assert not WorkerHeartbeat.objects.filter(worker_id="w1").exists()


def test_a_stopping_heartbeat_tries_again_to_remove_itself(
    settings, transactional_db, monkeypatch, caplog
):
    settings.TASK_WORKER_HEARTBEAT = 60
    heartbeat = Heartbeat("w2")
    heartbeat.start()
    errors = [OperationalError("database is locked")] * 2
    monkeypatch.setattr(worker, "heartbeat_end", failing_first(worker.heartbeat_end, errors))
    heartbeat.stop()
    assert not WorkerHeartbeat.objects.filter(worker_id="w2").exists()
    assert caplog.text.count("Could not remove the heartbeat of w2") == 2


def test_db_worker_in_batch_mode_runs_what_is_queued(transactional_db):
    result = send_digests.enqueue()
    call_command(
        "db_worker", "--batch", "--no-startup-delay", "--worker-id", "batch-1", verbosity=0
    )
    assert status_of(result.id) == TaskResultStatus.SUCCESSFUL
    assert DBTaskResult.objects.get(id=result.id).worker_ids == ["batch-1"]
    assert not WorkerHeartbeat.objects.exists()
