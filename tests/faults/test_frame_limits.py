"""Oversized WebSocket frames and messages against a real server, Daphne and uvicorn, each
started with its production options (tests.servers.PRODUCTION_OPTIONS: the Dockerfile's, and
the uvicorn command of docs/deployment.md): the server closes the connection with 1009, saying
what the limit is, before the application sees any of it."""

import json
from collections.abc import Iterator

import pytest

from tests.faults.conftest import AppServer
from tests.faults.pages import Page, has_text
from tests.servers import DAPHNE_LIMITS, DEMO_PASSWORD, SERVERS, sign_in

pytestmark = [pytest.mark.faults, pytest.mark.asyncio]

LIMIT = int(DAPHNE_LIMITS[DAPHNE_LIMITS.index("--websocket-max-message-size") + 1])
MESSAGE_TOO_BIG = 1009


@pytest.fixture(scope="module", params=SERVERS)
def server(
    request: pytest.FixtureRequest,
    fault_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[AppServer]:
    """One server of each kind for these tests: none of them changes it."""
    log = tmp_path_factory.mktemp("limits") / f"{request.param}.log"
    server = AppServer(env=fault_env, log=log, name=request.param)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def session(server: AppServer) -> str:
    return sign_in(server.server.origin, "ada", DEMO_PASSWORD)


async def open_page(server: AppServer, session: str) -> Page:
    page = Page(session=session)
    await page.open(server.server, resume=False)
    await page.receive_until(has_text('id="bell"'), what="the opening frame")
    return page


async def test_a_message_under_the_limit_reaches_the_application(server, session):
    page = await open_page(server, session)
    body = "x" * (LIMIT // 2)
    await page.send({"action": "chat.send", "body": body})
    await page.receive_until(has_text("the limit is 4,000"), what="the composer's error")
    await page.close()


async def test_a_message_over_the_limit_closes_the_socket_with_1009(server, session):
    page = await open_page(server, session)
    assert page.socket is not None
    await page.socket.send(json.dumps({"action": "chat.send", "body": "x" * LIMIT}))
    assert await page.closed_with() == MESSAGE_TOO_BIG
    reason = str(page.socket.protocol.close_rcvd)
    assert "exceeds" in reason, reason
    assert str(LIMIT) in reason, reason


async def test_small_frames_adding_up_to_too_much_close_the_socket_with_1009(server, session):
    page = await open_page(server, session)
    assert page.socket is not None
    fragment = "x" * (LIMIT // 3)
    await page.socket.send(iter([fragment, fragment, fragment, fragment]))
    assert await page.closed_with() == MESSAGE_TOO_BIG
