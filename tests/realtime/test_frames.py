"""Frames made once for many sockets, and how they are written (realtime.frames, .server)."""

import socket

import pytest
from twisted.internet import tcp
from twisted.internet.protocol import Protocol
from twisted.internet.testing import MemoryReactor
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from realtime.frames import text_frame
from realtime.server import unsent_bytes, write_now


def parsed(data: bytes) -> tuple[Frame, bytes]:
    """The first frame in `data` as the websockets client library reads it, and what follows."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        return done.value, bytes(reader.buffer)
    raise AssertionError("the frame is incomplete")


# Each length field: 7 bits (up to 125 bytes), 16 bits (up to 65535), 64 bits.
@pytest.mark.parametrize("length", [0, 1, 125, 126, 65535, 65536, 300_000])
def test_a_text_frame_is_one_final_unmasked_frame_of_exactly_the_text(length):
    text = "x" * length
    frame, rest = parsed(text_frame(text))
    assert (frame.opcode, frame.fin, rest) == (Opcode.TEXT, True, b"")
    assert bytes(frame.data).decode() == text


def test_lengths_count_encoded_bytes_not_characters():
    text = "é🙂" * 30_000  # 180,000 bytes in 60,000 characters
    frame, _ = parsed(text_frame(text))
    assert bytes(frame.data).decode() == text


@pytest.fixture
def connection():
    """A Twisted TCP transport over one end of a real socket pair; `peer` is the other end."""
    ours, peer = socket.socketpair()
    ours.setblocking(False)
    peer.settimeout(2)
    reactor = MemoryReactor()
    # Typed through zope.interface, whose interfaces mypy does not see implemented.
    transport = tcp.Connection(ours, Protocol(), reactor)  # type: ignore[arg-type]
    transport.connected = True
    yield transport, peer, reactor
    ours.close()
    peer.close()


def received(peer: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        data += peer.recv(size - len(data))
    return data


def test_with_nothing_waiting_the_data_is_sent_at_once(connection):
    transport, peer, reactor = connection
    write_now(transport, b"hello")
    # In the kernel already: the reactor was not asked to watch the socket for writing.
    assert received(peer, 5) == b"hello"
    assert unsent_bytes(transport) == 0
    assert transport not in reactor.getWriters()


def test_behind_buffered_data_new_data_queues_in_order(connection):
    transport, peer, _ = connection
    transport.write(b"first ")  # buffered by Twisted, waiting for the reactor
    write_now(transport, b"second")
    assert unsent_bytes(transport) == len(b"first second")
    transport.doWrite()
    assert received(peer, 12) == b"first second"


def test_what_the_kernel_does_not_take_is_buffered(connection):
    transport, peer, reactor = connection
    transport.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    data = bytes(range(256)) * 8192  # 2 MiB: far more than the socket buffers hold
    write_now(transport, data)
    assert 0 < unsent_bytes(transport) < len(data)
    assert transport in reactor.getWriters()
    # The rest follows in order once the peer reads.
    out = b""
    while len(out) < len(data):
        transport.doWrite()
        out += peer.recv(1 << 20)
    assert out == data


def test_a_closing_transport_is_left_to_twisted(connection):
    transport, _, _ = connection
    transport.disconnecting = True
    write_now(transport, b"late")
    assert unsent_bytes(transport) == 4  # buffered by Twisted's own write(), not sent here


def test_a_connection_lost_mid_write_is_left_to_twisted_to_find(connection):
    transport, peer, reactor = connection
    peer.close()
    write_now(transport, b"x" * 100_000)  # the send fails: the data goes to Twisted's buffer
    assert unsent_bytes(transport) > 0
    assert transport in reactor.getWriters()  # its next write attempt reports the loss
