"""Pageview counters and "here now" across two Daphne processes and a separate Channels
worker (`manage.py runworker pageviews`), on PostgreSQL and Redis.

The servers here are this module's own, with short presence timings, because the last test
kills one of them outright: a process that dies runs no disconnect handlers.
"""

import asyncio
import contextlib
import http.client
import os
import re
import signal
import subprocess
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.integration.conftest import Server
from tests.servers import DEMO_PASSWORD, LOCALHOST, PYTHON, ROOT, free_port, sign_in, wait_for_port

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

TIMEOUT = 10.0
VIEWS = re.compile(r'<span id="page-views"[^>]*>([\d,]+) views?</span>')
HERE_NOW = re.compile(r'<span id="here-now"[^>]*>(\d+) here now</span>')
QUICK = {
    "PRESENCE_HEARTBEAT_SECONDS": "0.5",
    "PRESENCE_TTL_SECONDS": "2",
    "PRESENCE_ANNOUNCE_SECONDS": "0.2",
    "PAGEVIEWS_FLUSH_SECONDS": "0.5",
}


@dataclass
class Live:
    a: Server
    b: Server
    b_process: subprocess.Popen[bytes]
    sessions: dict[str, str]


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "ab") as out:
        child = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield child
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()


def daphne_args(port: int) -> list[str]:
    return [PYTHON, "-m", "daphne", "-b", LOCALHOST, "-p", str(port), "realtime.asgi:application"]


@pytest.fixture(scope="module")
def live(
    production_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    env = {**os.environ, **production_env, **QUICK}
    logs = tmp_path_factory.mktemp("pageviews")
    with ExitStack() as stack:
        worker = stack.enter_context(
            process([PYTHON, "manage.py", "runworker", "pageviews"], env, logs / "worker.log")
        )
        servers = []
        for name in "ab":
            port = free_port()
            child = stack.enter_context(process(daphne_args(port), env, logs / f"{name}.log"))
            wait_for_port(port, process=child)
            servers.append((Server(port=port, log=logs / f"{name}.log"), child))
        assert worker.poll() is None, (logs / "worker.log").read_text()
        (a, _), (b, b_process) = servers
        sessions = {user: sign_in(a.origin, user, DEMO_PASSWORD) for user in ("ada", "grace")}
        yield Live(a=a, b=b, b_process=b_process, sessions=sessions)


@contextlib.asynccontextmanager
async def page(server: Server, session: str, path: str) -> AsyncIterator[ClientConnection]:
    query = urllib.parse.urlencode({"path": path})
    async with connect(
        f"{server.socket_base}/ws/?{query}",
        additional_headers={"Origin": server.origin, "Cookie": f"sessionid={session}"},
        open_timeout=TIMEOUT,
        close_timeout=1,
    ) as socket:
        yield socket


async def until(
    socket: ClientConnection, pattern: re.Pattern[str], done: Callable[[int], bool]
) -> int:
    """Read frames until one shows a count `done` accepts; returns that count."""
    seen: list[int] = []
    try:
        async with asyncio.timeout(TIMEOUT):
            while True:
                frame = await socket.recv(decode=True)
                for match in pattern.finditer(frame):
                    count = int(match.group(1).replace(",", ""))
                    seen.append(count)
                    if done(count):
                        return count
    except TimeoutError:
        raise AssertionError(f"no acceptable count within {TIMEOUT} s; saw {seen}") from None


def view(server: Server, path: str, session: str) -> None:
    connection = http.client.HTTPConnection(LOCALHOST, server.port, timeout=TIMEOUT)
    try:
        connection.request("GET", path, headers={"Cookie": f"sessionid={session}"})
        response = connection.getresponse()
        response.read()
        assert response.status == 200
    finally:
        connection.close()


async def test_views_through_both_processes_reach_viewers_on_both(live: Live) -> None:
    # A page no other integration test views: their servers' hits wait in the same channel.
    path = "/people/grace/"
    ada, grace = live.sessions["ada"], live.sessions["grace"]
    async with page(live.a, ada, path) as on_a, page(live.b, grace, path) as on_b:
        start = await until(on_a, VIEWS, lambda count: True)
        await until(on_b, VIEWS, lambda count: True)

        for server, session in [(live.a, ada), (live.b, grace), (live.a, grace)] * 2:
            await asyncio.to_thread(view, server, path, session)

        assert await until(on_a, VIEWS, lambda count: count >= start + 6) == start + 6
        assert await until(on_b, VIEWS, lambda count: count >= start + 6) == start + 6


async def test_here_now_spans_processes_counts_tabs_once_and_survives_a_dead_process(
    live: Live,
) -> None:
    path = "/notifications/"
    ada, grace = live.sessions["ada"], live.sessions["grace"]
    async with page(live.a, ada, path) as watcher:
        assert await until(watcher, HERE_NOW, lambda n: n == 1) == 1
        # ada's second tab and grace's tab are served by the other process.
        second_tab = await connect(
            f"{live.b.socket_base}/ws/?path=%2Fnotifications%2F",
            additional_headers={"Origin": live.b.origin, "Cookie": f"sessionid={ada}"},
        )
        grace_tab = await connect(
            f"{live.b.socket_base}/ws/?path=%2Fnotifications%2F",
            additional_headers={"Origin": live.b.origin, "Cookie": f"sessionid={grace}"},
        )
        assert await until(watcher, HERE_NOW, lambda n: n == 2) == 2

        # The other process dies: no disconnect handler runs there. Its entries expire.
        live.b_process.kill()
        live.b_process.wait()
        assert await until(watcher, HERE_NOW, lambda n: n != 2) == 1
        for socket in (second_tab, grace_tab):
            with contextlib.suppress(Exception):
                await socket.close()
