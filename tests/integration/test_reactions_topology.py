"""Reactions across two server processes that share PostgreSQL and the Redis channel layer:
a toggle saved through one process reaches the room's sockets on the other, and the room page
either process serves shows it."""

import json
import re
import uuid

import pytest

from tests.integration.conftest import Topology
from tests.integration.test_chat_topology import (
    chat_send,
    containing,
    get_page,
    message_ids,
    page_socket,
    receive_until,
    unique_body,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


def toggle(message_id: int, emoji: str) -> str:
    return json.dumps({"action": "reactions.toggle", "message": message_id, "emoji": emoji})


async def test_a_reaction_saved_through_one_process_reaches_a_socket_on_the_other(
    topology: Topology,
) -> None:
    body, escaped = unique_body()
    async with (
        page_socket(topology.a, session=topology.sessions["ada"], room="general") as author,
        page_socket(topology.b, session=topology.sessions["grace"], room="general") as reactor,
    ):
        await author.send(chat_send(body, uuid.uuid4()))
        pushed = await receive_until(reactor, containing(escaped), what="the message on B")
        (message_id,) = message_ids(pushed, escaped)
        bar = f'<div id="reactions-{message_id}" class="reactions" hx-swap-oob="true"'

        await reactor.send(toggle(message_id, "🎉"))
        frames = await receive_until(author, containing(bar), what="the reaction on A")
        echoed = await receive_until(reactor, containing(bar), what="the reaction on B")

    [push] = [frame for frame in frames if bar in frame]
    assert re.search(r'<span class="reactor" data-user="\d+" dir="auto">grace</span>', push)
    assert "🎉" in push
    assert [frame for frame in echoed if bar in frame] == [push]

    page = get_page(topology.a, "/rooms/general/", session=topology.sessions["ada"])
    shown = page[page.index(f'id="reactions-{message_id}"') :]
    shown = shown[: shown.index("</details>")]
    assert ">grace</span>" in shown
