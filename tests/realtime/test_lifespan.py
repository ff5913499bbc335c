"""The lifespan application: startup answered at once, the shutdown work run at shutdown."""

import asyncio
import logging
from typing import Any

import pytest
from django.conf import settings

from realtime.asgi import application
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


async def test_the_shutdown_work_runs_at_shutdown_and_completes():
    ran: list[str] = []

    async def on_shutdown() -> None:
        ran.append("shutdown")

    sent = await run(lifespan(on_shutdown=on_shutdown))
    assert ran == ["shutdown"]
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]


async def test_a_failing_shutdown_is_reported_to_the_server(caplog):
    async def on_shutdown() -> None:
        raise RuntimeError("the outbox could not be flushed")

    sent = await run(lifespan(on_shutdown=on_shutdown))
    assert sent[-1]["type"] == "lifespan.shutdown.failed"
    assert "the outbox could not be flushed" in sent[-1]["message"]
    assert "Shutting down failed" in caplog.text


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
