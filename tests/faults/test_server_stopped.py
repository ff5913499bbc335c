"""A server process, Daphne or uvicorn, is stopped (SIGTERM) while its sockets are open."""

import asyncio
import re
import signal
from collections.abc import Awaitable, Callable

import pytest

from realtime.sockets.closes import CLOSE_SERVICE_RESTART
from tests.faults.conftest import AppServer, Conversation
from tests.faults.pages import Page, has_acknowledgement, has_bodies, has_text
from tests.servers import SERVERS, ServerName

pytestmark = [
    pytest.mark.faults,
    pytest.mark.asyncio,
    pytest.mark.parametrize("server_name", SERVERS),
]

# How each server exits on SIGTERM once it has shut down: Daphne returns 0; uvicorn raises
# the signal again after its shutdown, as a process that did not catch it would end.
EXIT_CODE: dict[ServerName, int] = {"daphne": 0, "uvicorn": -signal.SIGTERM}


async def test_sockets_of_a_stopped_process_close_with_1012_and_resume_elsewhere(
    conversation: Callable[..., Awaitable[Conversation]],
) -> None:
    a, b, writer, reader, token = await conversation(reader_on="a")

    # SIGTERM: the process tells its sockets "service restart" before it exits.
    stopping = asyncio.create_task(asyncio.to_thread(a.stop))
    assert await reader.closed_with() == CLOSE_SERVICE_RESTART, a.log_tail()
    assert await stopping == EXIT_CODE[a.name], a.log_tail()

    # While the page reconnects, the other person goes on talking through B.
    for n in range(3):
        sent = await writer.post(f"{token} during {n}")
        await writer.receive_until(has_acknowledgement(sent), what=f"acknowledgement {n}")

    # The page reconnects to the other process and resumes from its cursor.
    await reader.open(b.server)
    await reader.receive_until(has_bodies(token, 4), what="the missed messages on B")
    await writer.post(f"{token} after")
    await reader.receive_until(has_bodies(token, 5), what="the next live message on B")
    await reader.close()
    await writer.close()

    expected = ("before", "during 0", "during 1", "during 2", "after")
    assert reader.bodies_with(token) == [f"{token} {n}" for n in expected]
    assert reader.arrived_again() == [], "the resumed page was sent a message again"


async def test_the_embedded_topology_shuts_down_cleanly(
    fault_env: dict[str, str],
    app_servers: Callable[[dict[str, str]], AppServer],
    sessions: Callable[[AppServer], dict[str, str]],
) -> None:
    # fault_env has no REDIS_URL: the in-memory layer, and the task worker inside the server.
    server = await asyncio.to_thread(app_servers, fault_env)
    page = Page(session=(await asyncio.to_thread(sessions, server))["ada"])
    await page.open(server.server, resume=False)
    await page.receive_until(has_text('id="bell"'), what="the opening frame")

    stopping = asyncio.create_task(asyncio.to_thread(server.stop))
    assert await page.closed_with() == CLOSE_SERVICE_RESTART, server.log_tail()
    assert await stopping == EXIT_CODE[server.name], server.log_tail()

    log = server.log.read_text(errors="replace")
    # The shutdown work ran to its end: the pages told, the worker stopped, the outbox sent.
    assert "Server stopping: closing" in log
    assert re.search(r"Task worker embedded-\w+ stopped", log), log[-4000:]
    assert "did not stop within" not in log
    assert "Traceback" not in log, log[-4000:]
    if server.name == "uvicorn":
        assert "Application shutdown complete." in log, log[-4000:]
