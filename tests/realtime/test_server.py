import os
import re
import socket
import subprocess
import sys

import pytest
from daphne.ws_protocol import WebSocketFactory
from twisted.internet.abstract import FileDescriptor
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport

import realtime.asgi  # noqa: F401 - applies the changes to Daphne, as Daphne's command line does
from realtime.server import TESTED_VERSIONS, FormattedWhenLogged, unsent_bytes
from tests.servers import ROOT


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


# Run in a fresh interpreter: Daphne's classes there are untouched until realtime.asgi is
# imported, as under Daphne's command line. `break` stands for a release that changed.
FRESH_DAPHNE = """
import sys
import daphne.server
import autobahn.websocket.protocol as autobahn_protocol
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from twisted.internet import abstract, tcp

from realtime import server

patched = [
    (WebSocketProtocol, "serverClose"),
    (WebSocketProtocol, "handle_reply"),
    (WebSocketProtocol, "autoPingInterval"),
    (WebSocketFactory, "__init__"),
    (Server, "create_application"),
    (autobahn_protocol, "pformat"),
]
before = [vars(owner).get(name) for owner, name in patched]
{brk}
import realtime.asgi

after = [vars(owner).get(name) for owner, name in patched]
print("unchanged" if after == before else "changed", [a is b for a, b in zip(after, before)])
"""

BREAKS = {
    "nothing": "",
    "attribute": "del abstract.FileDescriptor.dataBuffer",
    "instance attribute": "abstract.FileDescriptor.__init__ = lambda self, reactor=None: None",
    "version": "server.installed_version = lambda name: '99.0' if name == 'twisted' else "
    "server.TESTED_VERSIONS[name]",
}


def run_fresh(brk: str) -> tuple[str, list[str]]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "realtime.settings", "DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "-c", FRESH_DAPHNE.format(brk=brk)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    errors = [line for line in result.stderr.splitlines() if "Daphne adaptations" in line]
    return result.stdout.split()[0], errors


def test_the_adaptations_apply_to_the_locked_versions():
    assert run_fresh(BREAKS["nothing"]) == ("changed", [])


@pytest.mark.parametrize(
    ("brk", "reason"),
    [
        ("attribute", "FileDescriptor.dataBuffer is missing"),
        ("instance attribute", "FileDescriptor.__init__ does not set or use _tempDataLen"),
        ("version", "twisted is 99.0, not 26.10.0"),
    ],
)
def test_on_a_mismatch_none_of_the_adaptations_is_applied(brk: str, reason: str):
    state, errors = run_fresh(BREAKS[brk])
    assert state == "unchanged"
    assert errors == [f"Daphne adaptations not applied, Daphne's own behaviour kept: {reason}"]


def test_the_tested_versions_are_the_locked_ones():
    lock = (ROOT / "requirements.lock").read_text()
    locked = dict(re.findall(r"^([a-z0-9-]+)==(\S+)", lock, re.MULTILINE))
    assert {name: locked[name] for name in TESTED_VERSIONS} == TESTED_VERSIONS
