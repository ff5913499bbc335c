"""The lifespan application: the start work run at startup, the shutdown work at shutdown."""

import asyncio
import logging
from typing import Any

import pytest
from django.conf import settings

from realtime.asgi import application
from realtime.embedded import running_workers
from realtime.lifespan import lifespan

pytestmark = pytest.mark.asyncio


async def run(application: Any) -> list[dict[str, Any]]:
    """The messages the application sends through startup and shutdown, as uvicorn drives it."""
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    for kind in ("lifespan.startup", "lifespan.shutdown"):
        incoming.put_nowait({"type": kind})
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    async with asyncio.timeout(5):
        await application(scope, incoming.get, send)
    return sent


async def nothing() -> None:
    pass


async def test_the_start_work_runs_at_startup_and_the_shutdown_work_at_shutdown():
    ran: list[str] = []

    async def on_startup() -> None:
        ran.append("startup")

    async def on_shutdown() -> None:
        ran.append("shutdown")

    sent = await run(lifespan(on_startup=on_startup, on_shutdown=on_shutdown))
    assert ran == ["startup", "shutdown"]
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]


async def test_a_failing_shutdown_is_reported_to_the_server(caplog):
    async def on_shutdown() -> None:
        raise RuntimeError("the outbox could not be flushed")

    sent = await run(lifespan(on_startup=nothing, on_shutdown=on_shutdown))
    assert sent[-1]["type"] == "lifespan.shutdown.failed"
    assert "the outbox could not be flushed" in sent[-1]["message"]
    assert "Shutting down failed" in caplog.text


async def test_a_failing_start_is_reported_to_the_server_which_does_not_start(caplog):
    ran: list[str] = []

    async def on_startup() -> None:
        raise RuntimeError("the worker could not start")

    async def on_shutdown() -> None:
        ran.append("shutdown")

    sent = await run(lifespan(on_startup=on_startup, on_shutdown=on_shutdown))
    assert [message["type"] for message in sent] == ["lifespan.startup.failed"]
    assert "the worker could not start" in sent[0]["message"]
    assert "Starting up failed" in caplog.text
    assert ran == []


async def test_the_project_runs_its_shutdown_through_the_lifespan_scope(caplog, monkeypatch):
    # Channels' ProtocolTypeRouter refuses a scope type it has no application for: uvicorn
    # would then say lifespan is unsupported and skip the shutdown work.
    caplog.set_level(logging.INFO, logger="realtime.sockets.consumer")
    # The shutdown sets the process to exit within its grace period: recorded, not armed.
    deadlines: list[float] = []
    monkeypatch.setattr("realtime.asgi.exit_within", deadlines.append)
    sent = await run(application)
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    assert "Server stopping: closing 0 page sockets with 1012" in caplog.text
    assert deadlines == [settings.SERVER_STOP_GRACE_SECONDS]


async def test_the_project_starts_its_embedded_workers_at_startup_and_stops_them_at_shutdown(
    settings, monkeypatch
):
    # The embedded topology's pageview worker (the task worker needs the database).
    settings.PAGEVIEWS_EMBEDDED_WORKER = True
    settings.TASK_WORKER_EMBEDDED = False
    monkeypatch.setattr("realtime.asgi.exit_within", lambda seconds: None)
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    serving = asyncio.create_task(application(scope, incoming.get, sent.put))

    async with asyncio.timeout(5):
        incoming.put_nowait({"type": "lifespan.startup"})
        assert await sent.get() == {"type": "lifespan.startup.complete"}
        [worker] = list(running_workers)
        assert running_workers[worker] == "pageview worker"
        assert not worker.done()

        incoming.put_nowait({"type": "lifespan.shutdown"})
        assert await sent.get() == {"type": "lifespan.shutdown.complete"}
        await serving
    assert worker.cancelled()
    assert running_workers == {}
