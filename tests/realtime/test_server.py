import socket

from daphne.ws_protocol import WebSocketFactory
from twisted.internet.abstract import FileDescriptor
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport

import realtime.asgi  # noqa: F401 - applies the changes to Daphne, as Daphne's command line does
from realtime.server import FormattedWhenLogged, unsent_bytes


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


class Exploding:
    def __repr__(self) -> str:
        raise AssertionError("formatted although nothing was logged")


def test_log_arguments_are_formatted_only_when_logged():
    lazy = FormattedWhenLogged([("autoPingInterval", 20, "Factory")])
    FormattedWhenLogged(Exploding())  # never formatted: no error
    assert f"\n{lazy}" == "\n[('autoPingInterval', 20, 'Factory')]"
    template = "{attrs}"  # as the logger formats its arguments, when it logs
    assert template.format(attrs=lazy) == "[('autoPingInterval', 20, 'Factory')]"


def test_a_daphne_connection_reads_autobahns_options_from_its_factory():
    factory = WebSocketFactory(None, server="daphne")
    factory.setProtocolOptions(autoPingInterval=60, autoPingTimeout=30)
    protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 8000))
    protocol.makeConnection(StringTransport())

    # Nothing copied into the connection's own attributes; the factory's values read through.
    assert not set(factory.protocol.CONFIG_ATTRS) & set(vars(protocol))
    assert protocol.autoPingInterval == 60
    assert protocol.failByDrop is False  # change 2 sets it on the factory
    factory.setProtocolOptions(autoPingInterval=90)
    assert protocol.autoPingInterval == 90
