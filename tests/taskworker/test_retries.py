from datetime import timedelta

import pytest
from django.tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from notifications.tasks import send_digests
from taskworker import retries

pytestmark = pytest.mark.django_db


def run(attempt, work):
    gave_up: list[Exception] = []
    try:
        retries.attempt(send_digests, attempt=attempt, kwargs={}, work=work, gave_up=gave_up.append)
    except BaseException as error:
        return gave_up, error
    return gave_up, None


def boom():
    raise RuntimeError("boom")


def test_success_schedules_nothing():
    assert run(1, lambda: None) == ([], None)
    assert not DBTaskResult.objects.exists()


def test_a_failure_schedules_the_next_attempt_after_the_backoff(settings, frozen_now):
    settings.TASK_RETRY_BASE_DELAY = 10
    gave_up, error = run(2, boom)
    assert gave_up == []
    assert isinstance(error, RuntimeError)  # recorded as this attempt's failure
    retry = DBTaskResult.objects.get()
    assert retry.args_kwargs["kwargs"] == {"attempt": 3}
    assert retry.run_after == frozen_now + timedelta(seconds=20)


def test_the_last_attempt_gives_up(settings):
    settings.TASK_RETRY_ATTEMPTS = 3
    gave_up, error = run(3, boom)
    assert [str(e) for e in gave_up] == ["boom"]
    assert isinstance(error, RuntimeError)
    assert not DBTaskResult.objects.exists()


def test_a_permanent_failure_gives_up_at_once():
    def refused():
        raise retries.Permanent("never")

    gave_up, error = run(1, refused)
    assert [str(e) for e in gave_up] == ["never"]
    assert error is None
    assert not DBTaskResult.objects.exists()


def test_an_attempt_stopped_by_the_worker_is_queued_again_as_it_was():
    def stopped():
        raise SystemExit(1)

    gave_up, error = run(2, stopped)
    assert gave_up == []
    assert isinstance(error, SystemExit)
    retry = DBTaskResult.objects.get()
    assert retry.status == TaskResultStatus.READY
    assert retry.args_kwargs["kwargs"] == {"attempt": 2}
