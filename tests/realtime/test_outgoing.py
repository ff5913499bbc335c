"""realtime.sockets.outgoing: a socket's messages leave in order, several in one write where
the server takes ready-made frames."""

import asyncio

import pytest

from realtime.frames import text_frame
from realtime.sockets.outgoing import Outgoing
from tests.waiting import until

pytestmark = pytest.mark.asyncio


class Socket:
    """The consumer's send (waits until `open`) and Daphne's writer of ready-made frames."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.written: list[bytes] = []
        self.sent: list[str] = []

    async def send(self, *, text_data: str) -> None:
        await self.open.wait()
        self.sent.append(text_data)

    def write_frame(self, frame: bytes) -> bool:
        self.written.append(frame)
        return True


def outgoing(socket: Socket, *, frames: bool) -> Outgoing:
    out = Outgoing(socket.send, limit=10, overflowed=lambda: None)
    out.write_frame = socket.write_frame if frames else None
    return out


async def test_several_messages_leave_in_one_write_when_nothing_is_waiting():
    socket = Socket()
    htmls = ["<p>1</p>", "<p>2</p>", "<p>3</p>"]
    outgoing(socket, frames=True).put_many(htmls, [text_frame(html) for html in htmls])
    assert socket.written == [b"".join(text_frame(html) for html in htmls)]


async def test_without_ready_made_frames_each_is_sent_in_its_turn():
    socket = Socket()
    out = outgoing(socket, frames=False)
    out.put("<p>0</p>")  # in flight until the client reads
    out.put_many(["<p>1</p>", "<p>2</p>"], [text_frame("<p>1</p>"), text_frame("<p>2</p>")])
    socket.open.set()
    await until(lambda: len(socket.sent) == 3)
    assert socket.sent == ["<p>0</p>", "<p>1</p>", "<p>2</p>"]


async def test_while_held_they_wait_behind_the_catch_up():
    socket = Socket()
    out = outgoing(socket, frames=True)
    out.hold()
    out.put_many(["<p>1</p>"], [text_frame("<p>1</p>")])
    assert socket.written == []
    out.release(first=["<p>caught up</p>"])
    assert socket.written == [text_frame("<p>caught up</p>"), text_frame("<p>1</p>")]


async def test_where_the_server_refuses_ready_made_frames_each_is_sent_on_its_own():
    # Daphne's writer says no for a socket that compresses its messages (permessage-deflate).
    socket = Socket()
    out = Outgoing(socket.send, limit=10, overflowed=lambda: None)
    out.write_frame = lambda frame: False
    socket.open.set()
    out.put_many(["<p>1</p>", "<p>2</p>"], [text_frame("<p>1</p>"), text_frame("<p>2</p>")])
    await until(lambda: len(socket.sent) == 2)
    assert socket.sent == ["<p>1</p>", "<p>2</p>"]
