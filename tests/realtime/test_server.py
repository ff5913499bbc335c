import socket

from twisted.internet.abstract import FileDescriptor

from realtime.server import unsent_bytes


class Transport(FileDescriptor):
    """Twisted's own buffering, without a reactor or a real file descriptor."""

    def startWriting(self) -> None:
        pass

    def fileno(self) -> int:
        return -1


def test_unsent_bytes_counts_both_of_twisteds_buffers():
    transport = Transport()
    transport.connected = True
    assert unsent_bytes(transport) == 0
    transport.write(b"x" * 1000)
    transport.write(b"y" * 24)
    assert unsent_bytes(transport) == 1024
    # Part of it handed to the kernel: what is left of dataBuffer past the offset counts.
    transport.dataBuffer = b"z" * 100
    transport.offset = 40
    assert unsent_bytes(transport) == 60 + 1024


def test_transports_without_twisteds_buffers_count_as_empty():
    with socket.socket() as sock:
        assert unsent_bytes(sock) == 0
