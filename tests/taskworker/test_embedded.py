"""The embedded topology: the server's start starts a task worker on its own event loop,
whose pushes reach the in-memory channel layer of the same process."""

import asyncio
import threading
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import OperationalError

from chat.exports import actions as export_actions
from chat.models import TranscriptExport
from realtime.embedded import running_workers, start_embedded_workers, stop_embedded_workers
from realtime.groups import user_group_name
from realtime.hub.messages import carrier
from taskworker import worker as worker_module
from taskworker.models import WorkerHeartbeat
from tests.taskworker.failing import failing_first
from tests.waiting import until

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_connections"),
]


@pytest.fixture(autouse=True)
def task_worker_only(settings):
    """The settings of the embedded topology, with the task worker alone."""
    settings.TASK_WORKER_EMBEDDED = True
    settings.PAGEVIEWS_EMBEDDED_WORKER = False


async def test_the_server_start_starts_one_worker_that_runs_tasks_and_pushes_live(
    ada, room, settings
):
    settings.TASK_WORKER_INTERVAL = 0.05
    # The test database is an in-memory SQLite shared between threads, which fails writes that
    # meet another thread's lock instead of waiting: one beat only, and the task queued first.
    settings.TASK_WORKER_HEARTBEAT = 60
    export = await database_sync_to_async(export_actions.export_request)(
        room=room, user=ada, export_format="csv"
    )
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(carrier(user_group_name(ada.pk)), channel)
    tasks_before = len(asyncio.all_tasks())

    start_embedded_workers()
    workers = [t for t in asyncio.all_tasks() if "run_embedded_worker" in repr(t.get_coro())]
    assert len(workers) == 1
    assert len(asyncio.all_tasks()) == tasks_before + 1

    try:
        pushed: list[str] = []
        async with asyncio.timeout(10):
            while not any("Download" in html for html in pushed):
                message = await layer.receive(channel)
                # Pushes queued up together travel as one batch (realtime.push).
                pushed += [each["html"] for each in message.get("messages", [message])]
        assert any(f'id="export-{export.pk}"' in html and "Download" in html for html in pushed)
        await database_sync_to_async(export.refresh_from_db)()
        assert export.status == TranscriptExport.Status.READY
    finally:
        workers[0].cancel()
        with pytest.raises(asyncio.CancelledError):
            await workers[0]


async def start_worker() -> "asyncio.Task[None]":
    """What a server's start does: start its embedded worker."""
    start_embedded_workers()
    [worker] = list(running_workers)
    return worker


def database_down_at_start(monkeypatch, *, beats: int) -> None:
    """The worker's first `beats` heartbeats fail as with PostgreSQL down."""
    errors = [OperationalError("connection refused")] * beats
    beat = failing_first(worker_module.heartbeat_beat, errors)
    monkeypatch.setattr(worker_module, "heartbeat_beat", beat)


@database_sync_to_async
def heartbeats() -> int:
    # In-memory SQLite shared between threads fails a read that meets another thread's write
    # instead of waiting.
    for _ in range(100):
        try:
            return WorkerHeartbeat.objects.count()
        except OperationalError:
            time.sleep(0.01)  # a retry: the writer holds the lock for a moment
    raise AssertionError("the heartbeat table stayed locked")


async def test_a_stopping_server_stops_its_worker_cleanly(settings):
    settings.TASK_WORKER_INTERVAL = 0.05
    settings.TASK_WORKER_HEARTBEAT = 60

    worker = await start_worker()
    # The first beat happens before the worker claims anything.
    await until(heartbeats, what="the first heartbeat")
    assert await heartbeats() == 1

    await stop_embedded_workers()  # what realtime.asgi runs when Daphne shuts down

    assert worker.cancelled()
    assert not running_workers
    # Its heartbeat ended with it: nobody will take it for a dead worker.
    assert await heartbeats() == 0


async def test_a_stopping_server_waits_for_the_task_in_progress(settings, monkeypatch):
    settings.TASK_WORKER_INTERVAL = 0.05
    settings.TASK_WORKER_HEARTBEAT = 60
    started, finish = threading.Event(), threading.Event()
    events = []

    def a_slow_task(worker):
        started.set()
        finish.wait(5)
        events.append("task finished")
        return True

    monkeypatch.setattr(worker_module, "claim_and_run_one", a_slow_task)

    worker = await start_worker()
    assert await asyncio.to_thread(started.wait, 5)

    stopping = asyncio.create_task(stop_embedded_workers())
    await until(worker.cancelling, what="the stop reaching the worker")
    assert not stopping.done()  # it waits for the task in progress
    finish.set()
    await asyncio.wait_for(stopping, timeout=5)
    events.append("stopped")

    assert events == ["task finished", "stopped"]
    assert not running_workers
    assert await heartbeats() == 0


async def test_a_worker_whose_database_is_down_at_start_keeps_trying(settings, monkeypatch, caplog):
    settings.TASK_WORKER_INTERVAL = 0.05
    settings.TASK_WORKER_HEARTBEAT = 60
    database_down_at_start(monkeypatch, beats=2)

    worker = await start_worker()
    await until(heartbeats, what="a heartbeat once the database is back")
    assert await heartbeats() == 1
    assert caplog.text.count("could not start; trying again") == 2
    assert not worker.done()

    await stop_embedded_workers()
    assert await heartbeats() == 0


async def test_a_worker_stopped_before_its_database_came_back_stops_cleanly(
    settings, monkeypatch, caplog
):
    settings.TASK_WORKER_INTERVAL = 0.05
    database_down_at_start(monkeypatch, beats=1000)

    worker = await start_worker()
    await until(lambda: "could not start; trying again" in caplog.text, what="a failed start")

    await stop_embedded_workers()

    assert worker.cancelled()  # stopped, not failed: no heartbeat thread to join
    assert await heartbeats() == 0


async def test_a_task_that_fails_while_the_worker_stops_is_logged(settings, monkeypatch, caplog):
    settings.TASK_WORKER_HEARTBEAT = 60
    started, fail = threading.Event(), threading.Event()

    def a_failing_task(worker):
        started.set()
        fail.wait(5)
        raise RuntimeError("the task broke")

    monkeypatch.setattr(worker_module, "claim_and_run_one", a_failing_task)

    worker = await start_worker()
    assert await asyncio.to_thread(started.wait, 5)
    stopping = asyncio.create_task(stop_embedded_workers())
    await until(worker.cancelling, what="the stop reaching the worker")
    fail.set()  # the task breaks while the worker stops
    await asyncio.wait_for(stopping, timeout=5)

    assert "a_failing_task failed while the task worker was stopping" in caplog.text
    assert "the task broke" in caplog.text
    assert not running_workers
