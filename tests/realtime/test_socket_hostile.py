"""What a hostile client can throw at one page socket: frames that used to crash it, floods
of frames, costly actions beyond the budget. Whatever happens, the socket gives back its
place under the cap, its presence entry and its hub memberships."""

import asyncio
import json
import logging

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from chat.consumers import RoomPart, RoomPresencePart
from chat.logic import room_space
from realtime.budgets import costs
from realtime.hub.hub import get_hub
from realtime.inbound import BAD_TEXT, TOO_DEEP
from realtime.presence import get_presence
from realtime.routing import websocket_urlpatterns
from realtime.sockets import opening
from realtime.sockets.closes import (
    BAD_REQUEST,
    CLOSE_BAD_REQUEST,
    CLOSE_TOO_MANY_ATTEMPTS,
    CLOSE_TOO_MANY_FRAMES,
    FAILED,
    TOO_FAST,
)
from realtime.sockets.consumer import PageConsumer
from realtime.sockets.parts import Connection, Part

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_connections"),
]

router = URLRouter(websocket_urlpatterns)
ON_A_ROOM_PAGE = "/ws/?room=general&path=%2Frooms%2Fgeneral%2F"
DEEP = '{"action": "chat.send", "body": ' + "[" * 20_000 + "]" * 20_000 + "}"
LONE_SURROGATE_ACTION = '{"action": "\\ud800"}'


class Crash(BaseException):
    """Not an Exception: nothing on the way catches it, as with a bug in the server itself."""


class CrashingPart(Part):
    """Joins a group, enters presence through the room parts beside it, and can crash."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.release = asyncio.Event()

    def load(self):
        return ["crashing"]

    def actions(self):
        return {
            "crash": self.crash,
            "recurse": self.recurse,
            "wait": self.wait,
            "costly": self.costly,
            "echo": self.echo,
        }

    async def crash(self, frame):
        raise Crash()

    async def recurse(self, frame):
        raise RecursionError("maximum recursion depth exceeded")

    async def wait(self, frame):
        await self.release.wait()

    @costs("resume", tokens=2)
    async def costly(self, frame):
        await self.connection.reply("<p id='costly'>done</p>")

    async def echo(self, frame):
        await self.connection.reply("<p id='echo'>still here</p>")


crashing_app = PageConsumer.as_asgi(parts=(RoomPart, RoomPresencePart, CrashingPart))


def communicator(user, *, path=ON_A_ROOM_PAGE, app=crashing_app, client=("198.51.100.7", 1)):
    socket = WebsocketCommunicator(app, path)
    socket.scope["user"] = user
    socket.scope["client"] = client
    return socket


async def open_socket(user, **kwargs):
    """An open socket that has entered presence and caught up (frames are handled in order)."""
    socket = communicator(user, **kwargs)
    connected, _ = await socket.connect()
    assert connected
    await socket.send_to(text_data=json.dumps({"action": "echo"}))
    await until_text(socket, "still here")
    return socket


async def until_text(socket, marker: str) -> str:
    while True:
        message = await socket.receive_output(timeout=5)
        assert message["type"] == "websocket.send", f"closed: {message}"
        if marker in message["text"]:
            return str(message["text"])


async def closed_with(socket) -> int:
    while True:
        message = await socket.receive_output(timeout=5)
        if message["type"] == "websocket.close":
            return int(message["code"])


async def nothing_held(user_id: int, room) -> None:
    assert opening.open_sockets[user_id] == 0
    assert get_hub().members == {}
    assert get_hub().carriers == {}
    presence = get_presence()
    assert presence.local == {}
    assert await presence.members(room_space(room.id)) == []


async def test_a_crashed_consumer_gives_back_its_slot_presence_and_memberships(ada, room):
    socket = await open_socket(ada)
    presence = get_presence()
    assert await presence.people(room_space(room.id)) == [ada.pk]
    assert opening.open_sockets[ada.pk] == 1

    await socket.send_to(text_data=json.dumps({"action": "crash"}))
    with pytest.raises(Crash):
        await socket.wait(timeout=5)

    await nothing_held(ada.pk, room)


async def test_crashed_consumers_never_use_up_the_cap(ada, room, settings):
    settings.SOCKETS_PER_USER = 3
    for _ in range(settings.SOCKETS_PER_USER + 2):
        socket = await open_socket(ada)
        await socket.send_to(text_data=json.dumps({"action": "crash"}))
        with pytest.raises(Crash):
            await socket.wait(timeout=5)
    socket = await open_socket(ada)
    await socket.send_to(text_data=json.dumps({"action": "echo"}))
    assert "still here" in await until_text(socket, "echo")
    await socket.disconnect()
    await nothing_held(ada.pk, room)


async def test_frames_that_used_to_crash_the_consumer_are_answered(ada, room, settings):
    socket = await open_socket(ada)
    for _ in range(20):
        await socket.send_to(text_data=DEEP)
        assert TOO_DEEP in await until_text(socket, "socket-error")
        await socket.send_to(text_data=LONE_SURROGATE_ACTION)
        assert BAD_TEXT in await until_text(socket, "socket-error")
        await socket.send_to(text_data=json.dumps({"action": "recurse"}))
        assert FAILED in await until_text(socket, "socket-error")
    await socket.send_to(text_data=json.dumps({"action": "echo"}))
    assert "still here" in await until_text(socket, "echo")
    assert opening.open_sockets[ada.pk] == 1
    await socket.disconnect()
    await nothing_held(ada.pk, room)


async def test_a_reply_quoting_a_lone_surrogate_is_sent_escaped(ada, room):
    socket = await open_socket(ada)
    await socket.send_input({"type": "websocket.receive", "text": '{"action": "\ud800"}'})
    assert BAD_TEXT in await until_text(socket, "socket-error")
    # An unknown action whose name is quoted back, lone surrogate and all.
    await socket.send_to(text_data=json.dumps({"action": "a\x7f"}))
    (await until_text(socket, "socket-error")).encode("utf-8")
    await socket.disconnect()


async def test_frames_beyond_the_inbox_close_the_socket_and_nothing_stays_held(ada, room, settings):
    settings.SOCKET_INBOX_FRAMES = 5
    socket = await open_socket(ada)
    await socket.send_to(text_data=json.dumps({"action": "wait"}))  # blocks the handler
    for _ in range(settings.SOCKET_INBOX_FRAMES + 1):
        await socket.send_to(text_data=json.dumps({"action": "echo"}))
    assert await closed_with(socket) == CLOSE_TOO_MANY_FRAMES
    await socket.send_input({"type": "websocket.disconnect", "code": CLOSE_TOO_MANY_FRAMES})
    await socket.wait(timeout=5)
    await nothing_held(ada.pk, room)


async def test_the_inbox_is_bounded_by_size_too(ada, room, settings):
    settings.SOCKET_INBOX_BYTES = 10_000
    socket = await open_socket(ada)
    await socket.send_to(text_data=json.dumps({"action": "wait"}))
    for _ in range(3):
        await socket.send_to(text_data=json.dumps({"action": "echo", "pad": "x" * 4000}))
    assert await closed_with(socket) == CLOSE_TOO_MANY_FRAMES
    await socket.send_input({"type": "websocket.disconnect", "code": CLOSE_TOO_MANY_FRAMES})
    await socket.wait(timeout=5)
    await nothing_held(ada.pk, room)


async def test_a_costly_action_beyond_the_persons_budget_is_refused(ada, grace, room, settings):
    settings.SOCKET_BUDGETS = {**settings.SOCKET_BUDGETS, "resume": (0.001, 4.0)}
    tabs = [await open_socket(ada) for _ in range(2)]
    other = await open_socket(grace)
    # Two tabs share one budget: 4 tokens, 2 per action.
    for tab in tabs:
        await tab.send_to(text_data=json.dumps({"action": "costly"}))
        assert "done" in await until_text(tab, "costly'>")
    for tab in tabs:
        await tab.send_to(text_data=json.dumps({"action": "costly"}))
        assert TOO_FAST in await until_text(tab, "socket-error")
    # Cheap actions, and other people, are not held back.
    await tabs[0].send_to(text_data=json.dumps({"action": "echo"}))
    assert "still here" in await until_text(tabs[0], "echo")
    await other.send_to(text_data=json.dumps({"action": "costly"}))
    assert "done" in await until_text(other, "costly'>")
    for socket in (*tabs, other):
        await socket.disconnect()


async def test_every_frame_spends_from_the_frame_budget_before_it_is_parsed(ada, room, settings):
    settings.SOCKET_BUDGETS = {**settings.SOCKET_BUDGETS, "frame": (0.001, 4.0)}
    # One frame goes on opening (open_socket), three on what is not JSON.
    socket = await open_socket(ada)
    for _ in range(3):
        await socket.send_to(text_data="not even json")
        assert "not valid JSON" in await until_text(socket, "socket-error")
    await socket.send_to(text_data=json.dumps({"action": "echo"}))
    assert TOO_FAST in await until_text(socket, "socket-error")
    await socket.disconnect()


async def test_repeated_failures_are_logged_once_and_summarised(ada, room, caplog):
    caplog.set_level(logging.INFO, logger="realtime.sockets.dispatch")
    socket = await open_socket(ada)
    for _ in range(50):
        await socket.send_to(text_data=LONE_SURROGATE_ACTION)
        await until_text(socket, "socket-error")
    for _ in range(5):
        await socket.send_to(text_data=json.dumps({"action": "recurse"}))
        await until_text(socket, "socket-error")
    await socket.disconnect()

    records = [r for r in caplog.records if r.name == "realtime.sockets.dispatch"]
    assert [(r.levelname, r.exc_info is not None) for r in records] == [
        ("INFO", False),  # the first refused frame, without a traceback
        ("ERROR", True),  # the first failing action, with one
        ("WARNING", False),  # the summary, at close
    ]
    assert records[-1].getMessage() == (
        f"A page socket of user {ada.pk} closed after 53 more failed frames "
        "(RecursionError: 4, invalid: 49)"
    )


async def test_a_nul_in_the_address_is_a_bad_request_after_the_attempt_limit(ada, room, settings):
    socket = communicator(ada, path="/ws/?room=%00", app=router)
    assert (await socket.connect())[0]
    assert await socket.receive_output() == {
        "type": "websocket.close",
        "code": CLOSE_BAD_REQUEST,
        "reason": BAD_REQUEST,
    }
    assert opening.open_sockets[ada.pk] == 0

    settings.SOCKET_CONNECT_BURST = 0
    opening.connection_attempts.clear()
    socket = communicator(ada, path="/ws/?room=%00", app=router)
    assert (await socket.connect())[0]
    await socket.receive_from()
    assert (await socket.receive_output())["code"] == CLOSE_TOO_MANY_ATTEMPTS


async def test_a_server_that_fails_to_hand_over_a_frame_ends_the_socket_cleanly(ada, room):
    handed_over = [{"type": "websocket.connect"}]
    accepted = asyncio.Event()

    async def receive():
        if handed_over:
            return handed_over.pop()
        await accepted.wait()
        raise RuntimeError("the server lost the connection")

    async def send(message):
        if message["type"] == "websocket.accept":
            accepted.set()

    scope = {
        "type": "websocket",
        "path": "/ws/",
        "query_string": b"room=general&path=%2Frooms%2Fgeneral%2F",
        "headers": [],
        "user": ada,
        "client": ("198.51.100.7", 1),
    }
    async with asyncio.timeout(5):
        await crashing_app(scope, receive, send)
    await nothing_held(ada.pk, room)
