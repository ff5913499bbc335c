"""Private rooms across two Daphne processes sharing PostgreSQL and the Redis channel layer:
nobody outside a private room hears it, and a removed member stops hearing it at once,
whichever process their socket is on."""

import asyncio
import uuid

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tests.integration.conftest import Server, Topology
from tests.integration.test_chat_topology import (
    TIMEOUT,
    acknowledged_and_containing,
    chat_send,
    containing,
    page_socket,
    receive_for,
    receive_until,
    unique_body,
)
from tests.servers import manage

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

CREATE_PRIVATE_ROOM = """
from django.contrib.auth import get_user_model
from chat.models import Membership, Room

people = get_user_model().objects
ada, grace = people.get(username="ada"), people.get(username="grace")
room = Room.objects.create(name="{slug}", slug="{slug}", kind=Room.Kind.PRIVATE, created_by=ada)
Membership.objects.bulk_create([Membership(room=room, user=ada), Membership(room=room, user=grace)])
"""

# Run in a process of its own, like an admin action or a request on a third server: the
# eviction reaches the sockets through Redis.
REMOVE_GRACE = """
from django.contrib.auth import get_user_model
from chat.actions import rooms as room_actions
from chat.models import Room

people = get_user_model().objects
room = Room.objects.get(slug="{slug}")
grace, ada = people.get(username="grace"), people.get(username="ada")
room_actions.membership_end(room=room, member=grace, by=ada)
"""


async def private_room(env: dict[str, str]) -> str:
    slug = f"private-{uuid.uuid4().hex[:10]}"
    await asyncio.to_thread(manage, env, "shell", "-c", CREATE_PRIVATE_ROOM.format(slug=slug))
    return slug


async def read_until_closed(socket: ClientConnection) -> None:
    async with asyncio.timeout(TIMEOUT):
        while True:
            await socket.recv()


async def close_code(server: Server, session: str, room: str) -> int:
    """The code the server closes a socket on `room` with."""
    async with page_socket(server, session=session, room=room) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            await read_until_closed(socket)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_an_outsider_is_refused_on_both_processes_like_a_missing_room(
    topology: Topology, production_env: dict[str, str]
) -> None:
    slug = await private_room(production_env)
    linus = topology.sessions["linus"]
    for server in (topology.a, topology.b):
        assert await close_code(server, linus, slug) == 4404
        assert await close_code(server, linus, f"{slug}-missing") == 4404


async def test_members_hear_each_other_across_processes_and_nobody_else_does(
    topology: Topology, production_env: dict[str, str]
) -> None:
    slug = await private_room(production_env)
    body, escaped = unique_body()
    async with (
        page_socket(topology.a, session=topology.sessions["ada"], room=slug) as sender,
        page_socket(topology.b, session=topology.sessions["grace"], room=slug) as member,
        page_socket(topology.b, session=topology.sessions["linus"], room="general") as room_b,
        page_socket(topology.a, session=topology.sessions["linus"]) as lobby_a,
    ):
        await sender.send(chat_send(body, uuid.uuid4()))
        await receive_until(member, containing(escaped), what="push to the member on B")
        await receive_until(sender, acknowledged_and_containing(escaped), what="echo on A")
        heard = [*await receive_for(room_b), *await receive_for(lobby_a)]

    assert not [frame for frame in heard if escaped in frame or slug in frame]


async def test_a_removed_member_stops_receiving_on_the_other_process(
    topology: Topology, production_env: dict[str, str]
) -> None:
    slug = await private_room(production_env)
    first, _ = unique_body()
    after, after_escaped = unique_body()
    async with (
        page_socket(topology.a, session=topology.sessions["ada"], room=slug) as sender,
        page_socket(topology.b, session=topology.sessions["grace"], room=slug) as removed,
    ):
        await sender.send(chat_send(first, uuid.uuid4()))
        await receive_until(removed, containing("<article"), what="a message before removal")

        await asyncio.to_thread(
            manage, production_env, "shell", "-c", REMOVE_GRACE.format(slug=slug)
        )
        await receive_until(
            removed, containing("You are no longer a member of"), what="the eviction on B"
        )

        await sender.send(chat_send(after, uuid.uuid4()))
        await receive_until(sender, acknowledged_and_containing(after_escaped), what="echo on A")
        heard = await receive_for(removed)

    assert not [frame for frame in heard if after_escaped in frame]
    assert await close_code(topology.b, topology.sessions["grace"], slug) == 4404
