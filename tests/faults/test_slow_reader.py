"""A client that stops reading while its room is flooded is dropped; the others are not.

Daphne would buffer everything for it (bench/soak.py slow-readers shows the growth without a
bound, and the flat line with one); the project drops it past SOCKET_SEND_BUFFER_BYTES.
"""

import asyncio
import socket
from collections.abc import Callable

import psycopg
import pytest
from channels_redis.core import RedisChannelLayer
from websockets.asyncio.client import connect

from tests.faults.conftest import AppServer, RedisServer
from tests.faults.pages import Page, has_text
from tests.faults.test_socket_churn import gauges
from tests.servers import LOCALHOST
from tests.waiting import eventually

pytestmark = [pytest.mark.faults, pytest.mark.asyncio]

MESSAGES = 1500
SIZE = 4000
LIMIT = 256 * 1024


def room_id(database_url: str, slug: str) -> int:
    with psycopg.connect(database_url) as connection:
        row = connection.execute("SELECT id FROM chat_room WHERE slug = %s", [slug]).fetchone()
    assert row is not None
    return int(str(row[0]))


async def test_a_client_that_stops_reading_is_dropped_and_the_others_get_everything(
    fault_env: dict[str, str],
    postgres_url: str,
    redis_server: RedisServer,
    app_servers: Callable[[dict[str, str]], AppServer],
    sessions: Callable[[AppServer], dict[str, str]],
) -> None:
    env = {**fault_env, "REDIS_URL": redis_server.url, "SOCKET_SEND_BUFFER_BYTES": str(LIMIT)}
    server = await asyncio.to_thread(app_servers, env)
    signed_in = await asyncio.to_thread(sessions, server)
    healthy = Page(session=signed_in["ada"])
    await healthy.open(server.server, resume=False)
    await healthy.receive_until(has_text('id="bell"'), what="the opening frame")

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await asyncio.to_thread(sock.connect, (LOCALHOST, server.port))
    stalled = await connect(  # reads one message, then nothing: max_queue=1
        f"{server.server.socket_base}/ws/?room=general",
        additional_headers={
            "Origin": server.server.origin,
            "Cookie": f"sessionid={signed_in['grace']}",
        },
        sock=sock,
        max_queue=1,
    )

    group = f"chat.room.{await asyncio.to_thread(room_id, postgres_url, 'general')}"
    layer = RedisChannelLayer(hosts=[redis_server.url])
    filler = "x" * SIZE
    for n in range(MESSAGES):
        html = f'<p id="flood-{n}">{filler}</p>'
        await layer.group_send(group, {"type": "html.push", "group": group, "html": html})
        if n % 100 == 0:
            await healthy.receive_until(has_text(f'id="flood-{n}"'), what=f"flood {n}")
    await healthy.receive_until(has_text(f'id="flood-{MESSAGES - 1}"'), what="the last message")

    def dropped() -> bool:
        return gauges(server)["relay_open_sockets"] == 1

    await asyncio.to_thread(eventually, dropped, what="dropping the stalled socket")
    received = sum(frame.startswith('<p id="flood-') for frame in healthy.frames)
    assert received == MESSAGES
    stalled.transport.abort()
    await healthy.close()
