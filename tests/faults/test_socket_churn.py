"""Many connects and disconnects, clean and abrupt: nothing is left behind.

Memory over many more cycles is measured by bench/soak.py (results in docs/soak.md); this
test checks the structure that memory depends on: no socket, membership or subscription
survives its connection, in the process (its /metrics) or in Redis (the group keys).
"""

import asyncio
import http.client
import re
from collections.abc import Callable

import pytest
from websockets.asyncio.client import connect

from tests.faults.conftest import METRICS_TOKEN, AppServer, RedisServer
from tests.servers import LOCALHOST
from tests.waiting import eventually

pytestmark = [pytest.mark.faults, pytest.mark.asyncio]

CYCLES = 120
AT_ONCE = 10
GAUGES = ("relay_open_sockets", "relay_group_memberships", "relay_subscribed_groups")


def gauges(server: AppServer) -> dict[str, float]:
    connection = http.client.HTTPConnection(LOCALHOST, server.port, timeout=10)
    try:
        connection.request("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        text = connection.getresponse().read().decode()
    finally:
        connection.close()
    return {
        name: float(match.group(1))
        for name in GAUGES
        if (match := re.search(rf"^{name} (\S+)$", text, re.MULTILINE))
    }


async def cycle(server: AppServer, session: str, n: int) -> None:
    """Open a room page's socket and leave: cleanly, by dropping the TCP connection once the
    page is live, or by dropping it at once."""
    socket = await connect(
        f"{server.server.socket_base}/ws/?room={('general', 'random', 'django')[n % 3]}",
        additional_headers={"Origin": server.server.origin, "Cookie": f"sessionid={session}"},
        open_timeout=15,
        close_timeout=5,
    )
    match n % 3:
        case 0:
            await socket.recv()
            await socket.close()
        case 1:
            await socket.recv()
            socket.transport.abort()
        case _:
            socket.transport.abort()


async def test_connects_and_disconnects_leave_no_membership_behind(
    fault_env: dict[str, str],
    redis_server: RedisServer,
    app_servers: Callable[[dict[str, str]], AppServer],
    sessions: Callable[[AppServer], dict[str, str]],
) -> None:
    env = {**fault_env, "REDIS_URL": redis_server.url, "SOCKET_CONNECT_BURST": str(CYCLES * 2)}
    server = await asyncio.to_thread(app_servers, env)
    signed_in = await asyncio.to_thread(sessions, server)
    users = list(signed_in.values())

    for start in range(0, CYCLES, AT_ONCE):
        await asyncio.gather(
            *(cycle(server, users[n % len(users)], n) for n in range(start, start + AT_ONCE))
        )

    def released() -> bool:
        return set(gauges(server).values()) == {0.0}

    await asyncio.to_thread(eventually, released, what="every socket's release")
    assert gauges(server) == dict.fromkeys(GAUGES, 0.0)
    with redis_server.client() as client:
        assert list(client.scan_iter("asgi:group:*")) == []
