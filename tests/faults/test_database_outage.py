"""PostgreSQL becomes unreachable, then comes back.

A TCP proxy stands between Daphne and PostgreSQL; cutting it breaks every open database
connection and refuses new ones, as a network partition or a failover would.
"""

import asyncio
import http.client
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest

from chat.consumers import NOT_SAVED
from realtime.sockets.closes import CLOSE_UNAVAILABLE, DATABASE_UNAVAILABLE, UNAVAILABLE
from tests.faults.conftest import AppServer
from tests.faults.pages import Page, has_acknowledgement, has_bodies, has_text
from tests.faults.proxy import TcpProxy
from tests.integration.conftest import POSTGRES_PORT
from tests.servers import LOCALHOST

pytestmark = [pytest.mark.faults, pytest.mark.asyncio]


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(POSTGRES_PORT)
    yield proxy
    proxy.close()


def get(server: AppServer, path: str, *, session: str, htmx: bool = False) -> tuple[int, str, str]:
    """Status, body and Retry-After of a GET."""
    headers = {"Cookie": f"sessionid={session}"}
    if htmx:
        headers["HX-Request"] = "true"
    connection = http.client.HTTPConnection(LOCALHOST, server.port, timeout=15)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode(), response.getheader("Retry-After", "")
    finally:
        connection.close()


def saved(postgres_url: str, body: str) -> int:
    with psycopg.connect(postgres_url) as connection:
        row = connection.execute("SELECT count(*) FROM chat_message WHERE body = %s", [body])
        return int(row.fetchone()[0])  # type: ignore[index]


async def test_http_answers_503_sockets_report_it_and_all_works_again_after(
    fault_env: dict[str, str],
    postgres_url: str,
    proxy: TcpProxy,
    app_servers: Callable[[dict[str, str]], AppServer],
    sessions: Callable[[AppServer], dict[str, str]],
) -> None:
    through_proxy = postgres_url.replace(f":{POSTGRES_PORT}/", f":{proxy.port}/")
    server = await asyncio.to_thread(app_servers, {**fault_env, "DATABASE_URL": through_proxy})
    signed_in = await asyncio.to_thread(sessions, server)
    page = Page(session=signed_in["ada"])
    await page.open(server.server)
    token = uuid.uuid4().hex

    proxy.cut()

    status, body, retry_after = await asyncio.to_thread(
        get, server, "/rooms/general/", session=signed_in["ada"]
    )
    assert status == 503
    assert "Relay is briefly unavailable" in body
    assert retry_after == "10"
    status, body, _ = await asyncio.to_thread(
        get, server, "/rooms/general/older/?before=5", session=signed_in["ada"], htmx=True
    )
    assert status == 503
    assert 'id="socket-error"' in body

    # The open socket reports the failure and stays open; the refused text goes back.
    lost = f"{token} while the database is down"
    await page.post(lost)
    await page.receive_until(has_text(NOT_SAVED), what="the composer's error")
    assert any(lost in frame and "<textarea" in frame for frame in page.frames)
    await page.send({"action": "chat.resume", "after": 0})
    await page.receive_until(has_text(DATABASE_UNAVAILABLE), what="the resume's error")

    # A new socket is told, and closed with a code the page retries.
    newcomer = Page(session=signed_in["grace"])
    await newcomer.open(server.server, resume=False)
    assert await newcomer.closed_with() == CLOSE_UNAVAILABLE
    assert any(UNAVAILABLE in frame for frame in newcomer.frames)

    proxy.restore()

    status, body, _ = await asyncio.to_thread(
        get, server, "/rooms/general/", session=signed_in["ada"]
    )
    assert status == 200, body[:500]
    kept = f"{token} once it is back"
    sent = await page.post(kept)
    await page.receive_until(has_acknowledgement(sent), what="the acknowledgement")
    await page.receive_until(has_bodies(token, 1), what="the message's echo")
    await newcomer.open(server.server)
    await newcomer.receive_until(has_bodies(token, 1), what="the message, on a new socket")
    await asyncio.gather(page.close(), newcomer.close())

    assert await asyncio.to_thread(saved, postgres_url, lost) == 0
    assert await asyncio.to_thread(saved, postgres_url, kept) == 1
