"""Redis (the channel layer) restarts mid-conversation."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from realtime.sockets.closes import CLOSE_SERVICE_RESTART
from tests.faults.conftest import Conversation, RedisServer
from tests.faults.pages import has_acknowledgement, has_bodies

pytestmark = [pytest.mark.faults, pytest.mark.asyncio]


async def test_sockets_resume_after_redis_restarts_and_nothing_sent_meanwhile_is_lost(
    redis_server: RedisServer, conversation: Callable[..., Awaitable[Conversation]]
) -> None:
    a, b, writer, reader, token = await conversation(reader_on="b")

    await asyncio.to_thread(redis_server.stop)
    # Sent while Redis is down: saved and acknowledged (the push cannot go out yet).
    during = [await writer.post(f"{token} during {n}") for n in range(2)]
    for client_id in during:
        await writer.receive_until(has_acknowledgement(client_id), what="an acknowledgement")
    await asyncio.to_thread(redis_server.start)

    # Once the layer answers again, both processes ask their pages to resume.
    codes = await asyncio.gather(writer.closed_with(), reader.closed_with())
    assert list(codes) == [CLOSE_SERVICE_RESTART, CLOSE_SERVICE_RESTART], (
        a.log_tail() + b.log_tail()
    )
    await writer.open(a.server)
    await reader.open(b.server)
    await reader.receive_until(has_bodies(token, 3), what="the messages sent during the outage")
    await writer.receive_until(has_bodies(token, 3), what="the sender's own messages")

    # Live delivery works again, both ways.
    await writer.post(f"{token} after")
    await reader.receive_until(has_bodies(token, 4), what="a live message after the restart")
    await reader.post(f"{token} reply")
    await writer.receive_until(has_bodies(token, 5), what="a live reply after the restart")
    await reader.receive_until(has_bodies(token, 5), what="the reply's own echo")
    await asyncio.gather(writer.close(), reader.close())

    expected = [f"{token} {n}" for n in ("before", "during 0", "during 1", "after", "reply")]
    for page in (reader, writer):
        assert page.bodies_with(token) == expected
        assert page.arrived_again() == [], "a reconnected page was sent a message again"
