"""The whole WebSocket stack as deployed: origin check, session auth, routing."""

import asyncio

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.utils.module_loading import import_string

from realtime.asgi import application
from realtime.sockets.pages import open_pages

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_connections"),
]


@pytest.fixture
def session_cookie(client, ada):
    client.force_login(ada)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def communicator(*, cookie=None, origin="http://localhost"):
    headers = [(b"origin", origin.encode()), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return WebsocketCommunicator(application, "/ws/?room=general", headers=headers)


async def test_signed_in_socket_is_accepted(session_cookie, room):
    socket = communicator(cookie=session_cookie)
    connected, _ = await socket.connect()
    assert connected
    assert 'id="bell"' in await socket.receive_from()
    await socket.disconnect()


async def test_an_open_socket_keeps_its_session_key_not_the_session(session_cookie, room):
    socket = communicator(cookie=session_cookie)
    assert (await socket.connect())[0]
    [page] = [p for p in open_pages if p.scope.get("session_key") == session_cookie]
    assert not any(isinstance(value, SessionBase) for value in page.scope.values())
    await socket.disconnect()


async def test_socket_without_a_session_is_closed_with_4401(room):
    socket = communicator()
    await socket.connect()
    closed = await socket.receive_output()
    assert closed["code"] == 4401


async def test_socket_from_a_foreign_origin_is_refused(session_cookie, room):
    socket = communicator(cookie=session_cookie, origin="https://evil.example")
    connected, _ = await socket.connect()
    assert not connected


@pytest.mark.parametrize(
    "origin", ["http://localhost:8001", "https://localhost", "http://localhost.evil.example"]
)
async def test_socket_from_the_same_host_on_another_port_or_scheme_is_refused(
    session_cookie, room, origin
):
    socket = communicator(cookie=session_cookie, origin=origin)
    connected, _ = await socket.connect()
    assert not connected


async def test_socket_from_a_trusted_origin_is_accepted(session_cookie, room, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.org"]
    socket = communicator(cookie=session_cookie, origin="https://app.example.org")
    connected, _ = await socket.connect()
    assert connected
    await socket.disconnect()


async def test_a_stale_session_cookie_is_anonymous(room):
    socket = communicator(cookie="not-a-real-session-key")
    await socket.connect()
    closed = await socket.receive_output()
    assert closed["code"] == 4401


@pytest.fixture
def signed_out_cookie(client, ada):
    client.force_login(ada)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.logout()
    return cookie


async def test_a_signed_out_session_is_refused(signed_out_cookie, room):
    socket = communicator(cookie=signed_out_cookie)
    await socket.connect()
    closed = await socket.receive_output()
    assert closed["code"] == 4401


async def test_every_middleware_runs_on_the_event_loop_under_asgi():
    # A sync-only middleware puts the rest of each request in a thread that waits on the loop:
    # a hop per request, and a thread left stuck when the loop stops first (SIGTERM).
    sync_only = [
        path
        for path in settings.MIDDLEWARE
        if not getattr(import_string(path), "async_capable", False)
    ]
    assert sync_only == []


async def test_waiting_for_a_socket_to_go_ends_when_it_goes_even_if_another_waiter_gave_up(
    session_cookie, room
):
    socket = communicator(cookie=session_cookie)
    assert (await socket.connect())[0]
    [page] = [p for p in open_pages if p.scope.get("session_key") == session_cookie]
    impatient = asyncio.create_task(page.wait_gone())
    patient = asyncio.create_task(page.wait_gone())
    await asyncio.sleep(0)
    impatient.cancel()
    await socket.disconnect()
    async with asyncio.timeout(3):
        await patient
    # Once gone, waiting ends at once.
    async with asyncio.timeout(0.1):
        await page.wait_gone()
