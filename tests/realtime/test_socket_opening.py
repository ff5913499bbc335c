"""How a page socket opens: two calls to the database, reads shared between parts,
and a catch-up that one failing part does not spoil; and that it closes without any."""

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings

from chat.models import ReadCursor
from chat.queries import rooms as room_queries
from realtime.groups import user_group_name
from realtime.push import apush_html
from realtime.routing import websocket_urlpatterns
from realtime.sockets.closes import DATABASE_UNAVAILABLE
from realtime.sockets.consumer import PageConsumer
from realtime.sockets.opening import catch_up_all
from realtime.sockets.parts import NOTHING_MISSED, CatchUp, Part
from tests.frames import frames_until, handled_so_far

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_connections"),
]

ROOM_PAGE = "/ws/?room=general&path=/rooms/general/"


@pytest.fixture
def database_calls(monkeypatch):
    """The functions the page socket hands to the database, in order."""
    calls = []

    def counted(function, **options):
        calls.append(getattr(function, "__name__", repr(function)))
        return database_sync_to_async(function, **options)

    monkeypatch.setattr("realtime.sockets.consumer.database_sync_to_async", counted)
    return calls


@pytest.fixture
def session_cookie(client, ada):
    client.force_login(ada)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def room_page(session_cookie: str) -> WebsocketCommunicator:
    """A socket to the whole application, as a signed-in room page opens it."""
    from realtime.asgi import application

    headers = [
        (b"origin", b"http://localhost"),
        (b"host", b"localhost"),
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_cookie}".encode()),
    ]
    return WebsocketCommunicator(application, ROOM_PAGE, headers=headers)


async def test_a_room_page_opens_in_two_database_calls_signing_in_included(
    session_cookie, room, ada, database_calls
):
    await database_sync_to_async(ReadCursor.objects.create)(user=ada, room=room)
    socket = room_page(session_cookie)
    connected, _ = await socket.connect()
    assert connected

    frames = await handled_so_far(socket)  # the catch-up comes before any frame is handled
    for caught_up in ('id="bell"', f'id="unread-{room.id}"', 'id="page-views"'):
        assert any(caught_up in frame for frame in frames), caught_up
    # Who is here comes with the announcement of this arrival, outside the opening's calls.
    await frames_until(socket, lambda new: any('id="room-presence"' in f for f in frames + new))
    assert database_calls == ["load", "catch_up_all"]
    await socket.disconnect()


async def test_the_room_parts_look_the_room_up_once(ada, room, monkeypatch):
    lookups = []
    real = room_queries.room_readable

    def counted(**kwargs):
        lookups.append(kwargs["slug"])
        return real(**kwargs)

    monkeypatch.setattr(room_queries, "room_readable", counted)
    socket = WebsocketCommunicator(URLRouter(websocket_urlpatterns), ROOM_PAGE)
    socket.scope["user"] = ada
    connected, _ = await socket.connect()
    assert connected
    frames = await handled_so_far(socket)
    assert any('id="page-views"' in frame for frame in frames)
    await frames_until(socket, lambda new: any('id="room-presence"' in f for f in frames + new))
    assert lookups == ["general"]
    await socket.disconnect()


class BrokenCatchUp(Part):
    def __init__(self, connection):
        self.connection = connection

    def load(self):
        return ["broken"]

    def catch_up(self):
        from django.db import OperationalError

        raise OperationalError("server closed the connection unexpectedly")


class Greeting(Part):
    def __init__(self, connection):
        self.connection = connection

    def catch_up(self):
        return CatchUp(html="<p id='greeting'>hello</p>")


class Quiet(Greeting):
    def catch_up(self):
        return NOTHING_MISSED


async def test_a_part_whose_catch_up_fails_is_reported_and_the_others_still_catch_up(ada):
    app = PageConsumer.as_asgi(parts=(BrokenCatchUp, Quiet, Greeting))
    socket = WebsocketCommunicator(app, "/ws/")
    socket.scope["user"] = ada
    assert (await socket.connect())[0]

    assert DATABASE_UNAVAILABLE in await socket.receive_from()
    assert "hello" in await socket.receive_from()
    assert await handled_so_far(socket) == []  # nothing sent for the quiet part
    await socket.disconnect()


async def test_closing_a_socket_makes_no_call_to_the_database_thread(ada, room, monkeypatch):
    socket = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/?room=general")
    socket.scope["user"] = ada
    assert (await socket.connect())[0]
    assert 'id="bell"' in await socket.receive_from()
    hops = []

    async def hop():
        hops.append("aclose_old_connections")

    monkeypatch.setattr("channels.generic.websocket.aclose_old_connections", hop)

    def counted(function, **options):
        hops.append(function)
        return function

    monkeypatch.setattr("realtime.sockets.consumer.database_sync_to_async", counted)
    await socket.disconnect()
    assert hops == []


async def test_a_socket_opens_while_the_database_thread_is_busy(session_cookie, room):
    """The reads of a socket opening run in threads of their own (SOCKET_OPEN_THREADS): a slow
    action holding the one thread `database_sync_to_async` uses keeps no page from opening."""
    release = threading.Event()
    holding = asyncio.Event()
    loop = asyncio.get_running_loop()

    def slow_action():
        loop.call_soon_threadsafe(holding.set)
        release.wait(timeout=30)

    busy = asyncio.ensure_future(database_sync_to_async(slow_action)())
    await holding.wait()
    socket = room_page(session_cookie)
    try:
        connected, _ = await socket.connect(timeout=10)
        assert connected
        assert not busy.done()  # opened while the database thread was still held
    finally:
        release.set()
        await busy
    await socket.disconnect()


async def test_a_push_made_while_the_catch_up_is_read_comes_after_it(
    session_cookie, ada, room, monkeypatch
):
    """The catch-up is read beside the database thread's writes: a push of a write committed
    after that read is held until the catch-up (the older state) has been sent, never the
    other way round, or the page would be left showing the older state."""
    reading = threading.Event()
    read_done = threading.Event()

    def slow_catch_up(parts):
        outcomes = catch_up_all(parts)  # the state as it is now...
        reading.set()
        read_done.wait(timeout=30)  # ...sent only after a newer push was made
        return outcomes

    monkeypatch.setattr("realtime.sockets.consumer.catch_up_all", slow_catch_up)
    socket = room_page(session_cookie)
    try:
        connected, _ = await socket.connect(timeout=10)
        assert connected
        await asyncio.get_running_loop().run_in_executor(None, reading.wait, 30)
        await apush_html(user_group_name(ada.pk), '<span id="newer-than-the-catch-up"></span>')
    finally:
        read_done.set()
    frames = await handled_so_far(socket)
    newer = [n for n, frame in enumerate(frames) if "newer-than-the-catch-up" in frame]
    bell = [n for n, frame in enumerate(frames) if 'id="bell"' in frame]
    assert (len(newer), len(bell)) == (1, 1)
    assert bell[0] < newer[0]
    await socket.disconnect()
