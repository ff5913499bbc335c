"""The pageview worker (`manage.py runworker pageviews`, a process of its own) through a Redis
restart and a PostgreSQL outage: it stays up, and views made once the service is back are
counted and pushed without anyone restarting it."""

import asyncio
from collections.abc import Callable, Iterator

import pytest

from realtime.sockets.closes import CLOSE_SERVICE_RESTART
from tests import waiting
from tests.faults.conftest import AppServer, RedisServer, Worker
from tests.faults.proxy import TcpProxy
from tests.integration.conftest import POSTGRES_PORT
from tests.integration.test_pageviews_topology import VIEWS, page, until, view

pytestmark = [pytest.mark.faults, pytest.mark.asyncio]

QUICK = {"PAGEVIEWS_FLUSH_SECONDS": "0.3", "STATS_PUSH_SECONDS": "0.3"}
TIMEOUT = 15.0


async def logged(worker: Worker, text: str) -> None:
    await waiting.until(
        lambda: worker.logged(text) or not worker.alive(), what=text, within=TIMEOUT
    )
    assert worker.alive(), f"the worker exited:\n{worker.tail()}"


async def test_the_worker_outlives_a_redis_restart_and_counts_views_made_after_it(
    fault_env: dict[str, str],
    redis_server: RedisServer,
    app_servers: Callable[[dict[str, str]], AppServer],
    sessions: Callable[[AppServer], dict[str, str]],
    workers: Callable[[dict[str, str]], Worker],
) -> None:
    env = {**fault_env, **QUICK, "REDIS_URL": redis_server.url}
    worker = workers(env)
    server = await asyncio.to_thread(app_servers, env)
    ada = (await asyncio.to_thread(sessions, server))["ada"]
    path = "/people/linus/"

    async with page(server.server, ada, path) as socket:
        start = await until(socket, VIEWS, lambda count: True)
        await asyncio.to_thread(view, server.server, path, ada)
        assert await until(socket, VIEWS, lambda count: count > start) == start + 1

        await asyncio.to_thread(redis_server.stop)
        await logged(worker, "Worker cannot receive from channel 'pageviews'")
        await asyncio.to_thread(redis_server.start)
        # The server asks its page to resume once the layer answers again.
        await socket.wait_closed()
        assert socket.close_code == CLOSE_SERVICE_RESTART

    async with page(server.server, ada, path) as socket:
        assert await until(socket, VIEWS, lambda count: True) == start + 1
        for _ in range(3):
            await asyncio.to_thread(view, server.server, path, ada)
        assert await until(socket, VIEWS, lambda count: count > start + 1) == start + 4

    assert worker.alive(), worker.tail()
    assert worker.logged("Worker receives from channel 'pageviews' again")


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(POSTGRES_PORT)
    yield proxy
    proxy.close()


async def test_the_worker_outlives_a_database_outage_and_saves_the_views_it_held(
    fault_env: dict[str, str],
    postgres_url: str,
    redis_server: RedisServer,
    proxy: TcpProxy,
    app_servers: Callable[[dict[str, str]], AppServer],
    sessions: Callable[[AppServer], dict[str, str]],
    workers: Callable[[dict[str, str]], Worker],
) -> None:
    env = {**fault_env, **QUICK, "REDIS_URL": redis_server.url}
    # Only the worker reaches PostgreSQL through the proxy: the server keeps serving pages.
    through_proxy = postgres_url.replace(f":{POSTGRES_PORT}/", f":{proxy.port}/")
    worker = workers({**env, "DATABASE_URL": through_proxy})
    server = await asyncio.to_thread(app_servers, env)
    ada = (await asyncio.to_thread(sessions, server))["ada"]
    path = "/people/ada/"

    async with page(server.server, ada, path) as socket:
        start = await until(socket, VIEWS, lambda count: True)
        await asyncio.to_thread(view, server.server, path, ada)
        assert await until(socket, VIEWS, lambda count: count > start) == start + 1

        proxy.cut()
        for _ in range(2):
            await asyncio.to_thread(view, server.server, path, ada)
        await logged(worker, "Saving 2 pageviews failed; trying again at the next flush")
        proxy.restore()
        await asyncio.to_thread(view, server.server, path, ada)

        # The two views held through the outage and the one after it, nothing more.
        assert await until(socket, VIEWS, lambda count: count >= start + 4) == start + 4

    assert worker.alive(), worker.tail()
