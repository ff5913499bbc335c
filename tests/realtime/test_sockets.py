import asyncio

import pytest

from realtime import metrics
from realtime.sockets.closes import CLOSE_SERVICE_RESTART, CLOSE_TRY_AGAIN_LATER
from realtime.sockets.consumer import PageConsumer
from realtime.sockets.dispatch import decode_frame
from realtime.sockets.parts import CatchUp, Part
from realtime.sockets.urls import socket_params, socket_url


def test_socket_url_round_trip():
    url = socket_url(room="design reviews")
    assert url == "/ws/?room=design+reviews"
    assert socket_params(url.split("?", 1)[1].encode()) == {"room": "design reviews"}
    assert socket_url() == "/ws/"


def test_decode_frame_accepts_an_action():
    assert decode_frame('{"action": "chat.send", "body": "hi"}') == {
        "action": "chat.send",
        "body": "hi",
    }


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (None, "Binary frames are not supported."),
        ("{not json", "That frame was not valid JSON."),
        ("[1, 2]", "A frame must be a JSON object."),
        ('"just a string"', "A frame must be a JSON object."),
        ('{"body": "no action"}', "A frame needs an “action” field."),
        ('{"action": 5}', "A frame needs an “action” field."),
    ],
)
def test_decode_frame_errors(text, error):
    assert decode_frame(text) == error


class SlowClient:
    """An ASGI send that never finishes writing a message until released."""

    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []
        self.release = asyncio.Event()
        self.more = asyncio.Event()
        self.returned = asyncio.Event()

    async def __call__(self, message):
        self.sent.append(message)
        self.more.set()
        if message["type"] == "websocket.send":
            await self.release.wait()
        self.returned.set()

    async def until_sent(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.sent) < count:
                self.more.clear()
                await self.more.wait()


@pytest.mark.asyncio
async def test_a_socket_that_falls_behind_is_closed_with_1013(settings):
    settings.SOCKET_BACKLOG_LIMIT = 3
    socket = PageConsumer()
    client = SlowClient()
    socket.base_send = client
    drops_before = metrics.DROPS._value.get()

    for i in range(5):  # one in flight, three waiting, the fifth is one too many
        socket.deliver(f"m{i}")

    assert client.sent[-1] == {"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER}
    assert [m["text"] for m in client.sent if m["type"] == "websocket.send"] == ["m0"]
    assert metrics.DROPS._value.get() == drops_before + 1
    socket.deliver("after closing")  # ignored
    client.returned.clear()
    client.release.set()
    await asyncio.wait_for(client.returned.wait(), timeout=5)  # m0 written
    # One turn of the loop: the finished send's done-callback, queued as it finished, runs
    # before this resumes; it must send nothing more.
    await asyncio.sleep(0)
    assert len(client.sent) == 2


@pytest.mark.asyncio
async def test_backlogged_messages_are_sent_in_order_once_the_client_reads():
    socket = PageConsumer()
    client = SlowClient()
    socket.base_send = client
    for i in range(4):
        socket.deliver(f"m{i}")
    client.release.set()
    await client.until_sent(4)
    assert [m["text"] for m in client.sent] == ["m0", "m1", "m2", "m3"]
    assert socket.outgoing.backlog is None


@pytest.mark.asyncio
async def test_an_interrupted_socket_closes_so_the_page_resumes():
    socket = PageConsumer()
    client = SlowClient()
    socket.base_send = client
    socket.interrupted()
    socket.interrupted()
    assert client.sent == [{"type": "websocket.close", "code": CLOSE_SERVICE_RESTART}]


class JoinsOneGroup(Part):
    def __init__(self, connection) -> None:
        self.connection = connection

    def load(self):
        return ["test.early"]

    def catch_up(self):
        return CatchUp(html="<p>ready</p>")


class EarlyPushHub:
    """A hub through which a push reaches the socket the moment it joins."""

    def __init__(self) -> None:
        self.members: set[object] = set()

    async def join(self, group, member):
        self.members.add(member)
        if group == "test.early":
            member.deliver("<p>early</p>")

    async def leave(self, group, member):
        self.members.discard(member)


@pytest.mark.asyncio
@pytest.mark.django_db
async def test_a_push_arriving_during_the_handshake_waits_for_the_accept(
    monkeypatch, django_user_model
):
    monkeypatch.setattr("realtime.sockets.consumer.get_hub", EarlyPushHub)
    socket = PageConsumer(parts=(JoinsOneGroup,))
    client = SlowClient()
    client.release.set()
    socket.base_send = client
    socket.scope = {"user": django_user_model(pk=1, username="ada"), "query_string": b""}

    await socket.connect()
    await client.until_sent(3)

    # After the accept; and after the catch-up, which may be older than the push (it is read
    # beside the database thread's writes), so that the page is left with the newer state.
    assert client.sent == [
        {"type": "websocket.accept", "subprotocol": None},
        {"type": "websocket.send", "text": "<p>ready</p>"},
        {"type": "websocket.send", "text": "<p>early</p>"},
    ]
    assert socket.outgoing.backlog is None
