"""Pushed HTML reaches sockets intact at every length encoding, in order, alike on every socket
of every process: on Daphne as frames made once per process (realtime.frames), on uvicorn,
which offers no such extension, as each socket's own ASGI send."""

import uuid

import pytest

from tests.integration.conftest import Topology, on_every_server
from tests.integration.test_chat_topology import containing, page_socket, receive_until
from tests.servers import manage

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

# A frame's length takes 7, 16 or 64 bits: one push of each kind, multi-byte characters
# included (lengths count bytes).
SIZES = (20, 30_000, 200_000)

PUSH = """
from django.contrib.auth import get_user_model
from realtime.groups import user_group_name
from realtime.push import push_html
group = user_group_name(get_user_model().objects.get(username="ada").pk)
for size in {sizes}:
    push_html(group, "<p>{marker} %d " % size + "é🙂x" * (size // 3) + "</p>")
"""


@on_every_server
async def test_pushes_of_every_length_arrive_whole_and_in_order_on_every_socket(
    production_env: dict[str, str], topology: Topology
) -> None:
    marker = uuid.uuid4().hex
    session = topology.sessions["ada"]
    async with (
        page_socket(topology.a, session=session) as first,
        page_socket(topology.a, session=session) as second,
        page_socket(topology.b, session=session) as third,
    ):
        sockets = (first, second, third)
        for socket in sockets:  # joined: the bell's state comes once the socket is ready
            await receive_until(socket, containing('id="bell"'), what="the bell's state")
        manage(production_env, "shell", "-c", PUSH.format(sizes=SIZES, marker=marker))
        expected = [f"<p>{marker} {size} " + "é🙂x" * (size // 3) + "</p>" for size in SIZES]
        for socket in sockets:
            frames = await receive_until(
                socket,
                lambda frames: sum(marker in frame for frame in frames) == len(SIZES),
                what="three pushes",
            )
            assert [frame for frame in frames if marker in frame] == expected
