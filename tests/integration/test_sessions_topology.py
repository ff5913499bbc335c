"""Sockets follow their session across processes: signing out through one server closes the
person's open socket on the other, which can post nothing more."""

import asyncio
import uuid

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tests.integration.conftest import Topology
from tests.integration.test_chat_topology import (
    TIMEOUT,
    chat_send,
    page_socket,
    receive_for,
    receive_until,
)
from tests.integration.test_notifications_topology import Visitor
from tests.servers import DEMO_PASSWORD, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

SIGNED_OUT = 4401


async def close_code(socket: ClientConnection) -> int | None:
    """How the server closed `socket`, skipping whatever it sent before."""
    try:
        async with asyncio.timeout(TIMEOUT):
            async for _ in socket:
                pass
    except ConnectionClosed:
        pass
    return socket.close_code


async def test_signing_out_on_one_process_closes_the_socket_on_the_other(
    topology: Topology,
) -> None:
    # A session of its own: the topology's shared sessions must stay signed in.
    session = await asyncio.to_thread(sign_in, topology.a.origin, "linus", DEMO_PASSWORD)
    async with (
        page_socket(topology.b, session=session, room="general") as signed_out,
        page_socket(topology.b, session=topology.sessions["grace"], room="general") as watcher,
    ):
        await receive_until(signed_out, lambda fs: any('id="bell"' in f for f in fs), what="bell")
        await receive_until(watcher, lambda fs: any('id="bell"' in f for f in fs), what="bell")
        visitor = await asyncio.to_thread(Visitor.on, topology.a, "/", session=session)

        status = await asyncio.to_thread(visitor.submit, "/accounts/logout/", {})

        assert status in (200, 302)
        assert await close_code(signed_out) == SIGNED_OUT
        body = f"after signing out {uuid.uuid4().hex}"
        with pytest.raises(ConnectionClosed):
            await signed_out.send(chat_send(body, uuid.uuid4()))
        assert not any(body in frame for frame in await receive_for(watcher))

    # The cookie opens nothing any more, on either process.
    for server in (topology.a, topology.b):
        async with page_socket(server, session=session, room="general") as refused:
            assert await close_code(refused) == SIGNED_OUT
