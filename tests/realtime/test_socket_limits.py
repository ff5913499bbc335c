"""The page socket's limits and failure answers, through the real routing."""

import asyncio
import json

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import OperationalError

from realtime.admission import get_admission
from realtime.hub.hub import get_hub
from realtime.routing import websocket_urlpatterns
from realtime.sockets import opening
from realtime.sockets.closes import (
    BUSY,
    CLOSE_NOT_FOUND,
    CLOSE_SERVICE_RESTART,
    CLOSE_TOO_MANY_ATTEMPTS,
    CLOSE_TOO_MANY_SOCKETS,
    CLOSE_TRY_AGAIN_LATER,
    CLOSE_UNAUTHENTICATED,
    CLOSE_UNAVAILABLE,
    DATABASE_UNAVAILABLE,
    FAILED,
    TOO_MANY_ATTEMPTS,
    TOO_MANY_SOCKETS,
    UNAVAILABLE,
)
from realtime.sockets.consumer import PageConsumer
from realtime.sockets.parts import Connection, Part

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_connections"),
]

router = URLRouter(websocket_urlpatterns)


def communicator(user, *, path="/ws/?room=general", client=("198.51.100.7", 50000), app=router):
    socket = WebsocketCommunicator(app, path)
    socket.scope["user"] = user
    socket.scope["client"] = client
    return socket


async def open_socket(user, **kwargs):
    socket = communicator(user, **kwargs)
    connected, _ = await socket.connect()
    assert connected
    assert 'id="bell"' in await socket.receive_from()
    return socket


async def refused(socket):
    """The error line the page shows, and the close frame that follows it."""
    connected, _ = await socket.connect()
    assert connected  # accepted only to tell the page why
    error = await socket.receive_from()
    closed = await socket.receive_output()
    assert closed["type"] == "websocket.close"
    return error, closed["code"]


async def test_a_user_over_the_socket_cap_is_refused_and_told_why(ada, grace, room, settings):
    settings.SOCKETS_PER_USER = 2
    first = await open_socket(ada)
    second = await open_socket(ada)

    error, code = await refused(communicator(ada))
    assert code == CLOSE_TOO_MANY_SOCKETS
    assert 'id="socket-error"' in error
    assert TOO_MANY_SOCKETS in error

    # Someone else is not affected, and closing a tab frees a place.
    other = await open_socket(grace)
    await first.disconnect()
    third = await open_socket(ada)
    assert opening.open_sockets[ada.pk] == 2
    for socket in (second, third, other):
        await socket.disconnect()
    assert len(opening.open_sockets) == 0


async def test_a_refused_room_does_not_hold_a_place_under_the_cap(ada, room, settings):
    settings.SOCKETS_PER_USER = 1
    socket = communicator(ada, path="/ws/?room=nowhere")
    await socket.connect()
    assert (await socket.receive_output())["code"] == CLOSE_NOT_FOUND
    assert opening.open_sockets[ada.pk] == 0
    # The one place is still free.
    await (await open_socket(ada)).disconnect()


async def test_too_many_connection_attempts_are_refused_per_user(ada, grace, room, settings):
    settings.SOCKET_CONNECT_BURST = 3
    settings.SOCKET_CONNECT_RATE = 0.001
    for _ in range(3):
        await (await open_socket(ada)).disconnect()

    error, code = await refused(communicator(ada))
    assert code == CLOSE_TOO_MANY_ATTEMPTS
    assert TOO_MANY_ATTEMPTS in error
    # Another account from the same address is unaffected.
    await (await open_socket(grace)).disconnect()


async def test_anonymous_attempts_are_limited_per_address(room, settings):
    settings.SOCKET_CONNECT_BURST = 2
    settings.SOCKET_CONNECT_RATE = 0.001
    flooder = ("203.0.113.9", 40000)
    for _ in range(2):
        socket = communicator(AnonymousUser(), client=flooder)
        await socket.connect()
        assert (await socket.receive_output())["code"] == CLOSE_UNAUTHENTICATED

    error, code = await refused(communicator(AnonymousUser(), client=flooder))
    assert code == CLOSE_TOO_MANY_ATTEMPTS
    assert TOO_MANY_ATTEMPTS in error
    # Another address still gets the ordinary answer.
    socket = communicator(AnonymousUser(), client=("203.0.113.10", 40000))
    await socket.connect()
    assert (await socket.receive_output())["code"] == CLOSE_UNAUTHENTICATED


async def test_a_session_that_could_not_be_read_is_retried_not_signed_out(room, monkeypatch):
    def database_down(session):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("realtime.auth.session_user", database_down)
    socket = communicator(None)
    socket.scope["session_key"] = "a-session-key"
    error, code = await refused(socket)
    assert code == CLOSE_UNAVAILABLE
    assert UNAVAILABLE in error


async def test_an_unreachable_channel_layer_refuses_with_1011(ada, room, settings):
    from tests.servers import free_port

    # A real Redis client against a port where nothing listens.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}/0"]},
        }
    }
    error, code = await refused(communicator(ada))
    assert code == CLOSE_UNAVAILABLE
    assert UNAVAILABLE in error
    assert opening.open_sockets[ada.pk] == 0
    assert (get_hub().members, get_hub().carriers) == ({}, {})


class FailingPart(Part):
    """A part whose actions fail the way real ones can."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def load(self):
        return ["failing"]

    def actions(self):
        return {"database": self.database, "bug": self.bug, "echo": self.echo}

    async def database(self, frame):
        raise OperationalError("server closed the connection unexpectedly")

    async def bug(self, frame):
        raise KeyError("missing")

    async def echo(self, frame):
        await self.connection.reply("<p id='echo'>still here</p>")


async def test_a_failing_action_is_answered_and_the_socket_stays_open(ada):
    socket = communicator(ada, app=PageConsumer.as_asgi(parts=(FailingPart,)))
    assert (await socket.connect())[0]

    await socket.send_to(text_data=json.dumps({"action": "database"}))
    assert DATABASE_UNAVAILABLE in await socket.receive_from()
    await socket.send_to(text_data=json.dumps({"action": "bug"}))
    assert FAILED in await socket.receive_from()
    await socket.send_to(text_data=json.dumps({"action": "echo"}))
    assert "still here" in await socket.receive_from()
    await socket.disconnect()


async def test_a_stopping_server_closes_sockets_with_1012_and_leaves_its_groups(ada, room):
    socket = await open_socket(ada)
    hub = get_hub()
    assert hub.members
    assert hub.carriers

    socket.future.cancel()  # what Daphne does to every application on SIGTERM
    closed = await asyncio.wait_for(socket.output_queue.get(), timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_SERVICE_RESTART}
    await socket.send_input({"type": "websocket.disconnect", "code": CLOSE_SERVICE_RESTART})
    with pytest.raises(asyncio.CancelledError):
        await socket.future
    assert (hub.members, hub.carriers) == ({}, {})
    assert len(opening.open_sockets) == 0


async def test_a_socket_that_waited_too_long_to_open_is_told_to_retry_with_1013(
    ada, room, settings
):
    settings.SOCKET_CONNECT_CONCURRENCY = 1
    settings.SOCKET_CONNECT_WAIT = 0.1
    admission = get_admission()
    assert await admission.enter()  # another socket is opening and holds the only place

    error, code = await refused(communicator(ada))
    assert code == CLOSE_TRY_AGAIN_LATER  # htmx reconnects after 1013
    assert BUSY in error
    assert opening.open_sockets[ada.pk] == 0
    assert (get_hub().members, get_hub().carriers) == ({}, {})

    admission.leave()
    await (await open_socket(ada)).disconnect()
