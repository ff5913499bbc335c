"""A Daphne process is stopped (SIGTERM) while its sockets are open."""

import asyncio
import uuid
from collections.abc import Callable

import pytest

from realtime.sockets import CLOSE_SERVICE_RESTART
from tests.faults.conftest import Daphne, RedisServer
from tests.faults.pages import Page, has_acknowledgement, has_bodies

pytestmark = [pytest.mark.faults, pytest.mark.asyncio]


async def test_sockets_of_a_stopped_process_close_with_1012_and_resume_elsewhere(
    fault_env: dict[str, str],
    redis_server: RedisServer,
    daphnes: Callable[[dict[str, str]], Daphne],
    sessions: Callable[[Daphne], dict[str, str]],
) -> None:
    env = {**fault_env, "REDIS_URL": redis_server.url}
    a, b = await asyncio.gather(asyncio.to_thread(daphnes, env), asyncio.to_thread(daphnes, env))
    signed_in = await asyncio.to_thread(sessions, a)
    token = uuid.uuid4().hex
    reader = Page(session=signed_in["grace"])
    writer = Page(session=signed_in["ada"])
    await reader.open(a.server)
    await writer.open(b.server)

    await writer.post(f"{token} before")
    await reader.receive_until(has_bodies(token, 1), what="the first message on A")

    # SIGTERM: the process tells its sockets "service restart" before it exits.
    stopping = asyncio.create_task(asyncio.to_thread(a.stop))
    assert await reader.closed_with() == CLOSE_SERVICE_RESTART, a.log_tail()
    assert await stopping == 0, a.log_tail()

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
