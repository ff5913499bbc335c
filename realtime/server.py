"""Seven changes to how Daphne handles WebSocket connections.

1. Daphne closes sockets through autobahn's `sendClose`, which accepts only 1000 and
   3000-4999: asked for 1011, 1012 or 1013 it raises, and no close frame is sent at all. Those
   are the codes after which a page reconnects by itself (RFC 6455 and the IANA registry let a
   server send them), so they are sent as close frames directly.
2. A message or frame over Daphne's size limits (--websocket-max-message-size,
   --websocket-max-frame-size) makes autobahn drop the TCP connection without a word. With
   failByDrop off it sends a close frame first: 1009, "message too big", with the sizes.
3. Daphne writes whatever the application sends straight into Twisted's buffer for the
   connection, which grows without bound while the client does not read: a stalled page
   could hold gigabytes. Before each message, the bytes still unsent are checked; past
   SOCKET_SEND_BUFFER_BYTES the connection is dropped (the page reconnects and resumes),
   and its buffer freed.
4. On SIGTERM Daphne cancels its applications (and, with an idle HTTP connection open, fails
   to: its shutdown trigger raises KeyError), then drops every connection without a close
   frame, which a browser reports as 1006. A shutdown trigger of our own runs first and is
   awaited by Twisted: it closes the sockets with 1012 and waits for the clients to answer.
5. Every text message goes through autobahn's sendMessage (which formats debug-log arguments
   on every frame, with debug off) into Twisted's write(), which only buffers it and asks the
   reactor to watch the socket: two epoll calls per message, and the bytes leave on a later
   turn of the loop. Text messages are framed here instead and written at once when nothing
   is waiting to be sent, as asyncio's own transports do; only what the kernel does not take
   is buffered. Each WebSocket's scope also carries a writer of ready-made frames
   (realtime.frames), so that one frame serves every member of a group in this process.
6. autobahn pretty-prints its whole configuration, and the connection's details, for two
   debug log lines on every new connection, whether or not debug logging is on: about a tenth
   of the event loop's time during a burst of handshakes. They are formatted only if logged.
7. autobahn copies its 29 protocol options from the factory into every connection's own
   attributes, unless the connection's class already has them: at 10,000 idle connections,
   that doubled each connection's attribute dictionary. The class reads them from the
   factory instead (Daphne sets them there, once, for all connections).

Daphne's command line imports its server before it loads the application, so realtime.asgi
applies these when it is imported. Outside Daphne they change nothing.

They read and replace private parts of Daphne, autobahn and Twisted, so they are made for the
exact versions in requirements.lock (TESTED_VERSIONS). At start every version and every
attribute they touch is checked first: on any difference none of them is applied, one error
line says what differs, and Daphne keeps its own behaviour (the startup and shutdown
triggers, public Twisted API, are kept either way: they start and stop the embedded workers,
realtime.embedded).

Upstream issues these work around:
1. crossbario/autobahn-python#1642 (sendClose refuses the registered codes 1012-1014, and
   1011), also met as django/daphne#374.
2. No upstream issue found for Daphne dropping oversized messages without a close frame; it
   is autobahn's failByDrop default, as in crossbario/autobahn-python#888.
3. django/daphne#170 (a slow client makes the server's send buffer grow without bound).
4. django/daphne#177 (graceful restart and connection draining, open); django/daphne#38 was
   closed on the belief that Twisted sends the close frames. No upstream issue found for the
   KeyError in Daphne's shutdown trigger.
5.-7. Speed-ups, not behaviour fixes (docs/benchmarks.md has their measurements).
"""

import asyncio
import inspect
import logging
import sys
from collections.abc import Callable, Coroutine
from functools import partial
from importlib import metadata
from pprint import pformat
from typing import Any

from django.conf import settings

from realtime import frames, metrics

logger = logging.getLogger(__name__)

# Close codes a server may send that autobahn's sendClose refuses.
SERVICE_CLOSE_CODES = frozenset({1011, 1012, 1013, 1014})

# The versions these adaptations were written and tested for: those in requirements.lock.
TESTED_VERSIONS = {"daphne": "4.2.3", "twisted": "26.10.0", "autobahn": "26.11.1"}

_adapted = False


def adapt_daphne(
    *,
    on_startup: Callable[[], Coroutine[Any, Any, None]],
    on_shutdown: Callable[[], Coroutine[Any, Any, None]],
) -> None:
    """Once per process, when Daphne serves it; `on_startup` runs on the event loop once the
    server runs, `on_shutdown` when it stops (Daphne has no ASGI lifespan: its reactor's
    triggers stand in for it)."""
    global _adapted
    if _adapted or "daphne.server" not in sys.modules:
        return
    _adapted = True
    from twisted.internet import reactor
    from twisted.internet.defer import Deferred

    # Typed through zope.interface, whose method signatures mypy misreads.
    events: Any = reactor
    # Daphne sets the reactor's asyncio loop as the current one before it runs the reactor:
    # the start work is scheduled there and runs as soon as the loop does.
    events.callWhenRunning(lambda: Deferred.fromFuture(asyncio.ensure_future(on_startup())))
    events.addSystemEventTrigger(
        "before", "shutdown", lambda: Deferred.fromFuture(asyncio.ensure_future(on_shutdown()))
    )
    mismatches = daphne_mismatches()
    if mismatches:
        logger.error(
            "Daphne adaptations not applied, Daphne's own behaviour kept: %s",
            "; ".join(mismatches),
        )
        return
    apply_adaptations()


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def daphne_mismatches() -> list[str]:
    """What differs from the versions and attributes the adaptations rely on (empty: none)."""
    mismatches = [
        f"{name} is {installed_version(name)}, not {version}"
        for name, version in TESTED_VERSIONS.items()
        if installed_version(name) != version
    ]
    import autobahn.websocket.protocol as autobahn_protocol
    from daphne.server import Server
    from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
    from twisted.internet import abstract, tcp

    attributes: list[tuple[object, str]] = [
        (WebSocketProtocol, "serverClose"),
        (WebSocketProtocol, "sendCloseFrame"),
        (WebSocketProtocol, "handle_reply"),
        (WebSocketProtocol, "CONFIG_ATTRS"),
        (WebSocketProtocol, "STATE_OPEN"),
        (WebSocketFactory, "setProtocolOptions"),
        (Server, "create_application"),
        (autobahn_protocol, "pformat"),
        (abstract.FileDescriptor, "dataBuffer"),
        (abstract.FileDescriptor, "offset"),
        (abstract.FileDescriptor, "write"),
        (tcp.Connection, "writeSomeData"),
        (tcp.Connection, "TLS"),
        (tcp.Connection, "abortConnection"),
    ]
    mismatches += [
        f"{getattr(owner, '__name__', owner)}.{name} is missing"
        for owner, name in attributes
        if not hasattr(owner, name)
    ]
    # Set on each instance, so looked for in the code of the library that sets them.
    connection_made = getattr(autobahn_protocol.WebSocketProtocol, "_connectionMade", None)
    instance_attributes: list[tuple[str, Any, str]] = [
        ("FileDescriptor.__init__", abstract.FileDescriptor.__init__, "_tempDataLen"),
        ("WebSocketProtocol._connectionMade", connection_made, "_perMessageCompress"),
        ("WebSocketProtocol._connectionMade", connection_made, "pformat"),
    ]
    mismatches += [
        f"{label} does not set or use {name}"
        for label, function, name in instance_attributes
        if name not in getattr(getattr(function, "__code__", None), "co_names", ())
    ]
    set_options = getattr(WebSocketFactory, "setProtocolOptions", None)
    send_close_frame = getattr(WebSocketProtocol, "sendCloseFrame", None)
    parameters: list[tuple[str, Any, str]] = [
        ("WebSocketFactory.setProtocolOptions", set_options, "failByDrop"),
        ("WebSocketProtocol.sendCloseFrame", send_close_frame, "isReply"),
    ]
    mismatches += [
        f"{label} takes no {name}"
        for label, function, name in parameters
        if function is None or name not in inspect.signature(function).parameters
    ]
    return mismatches


def apply_adaptations() -> None:
    import autobahn.websocket.protocol as autobahn_protocol
    from daphne.server import Server
    from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol

    daphne_close = WebSocketProtocol.serverClose

    def server_close(protocol: Any, code: int | None = None) -> None:
        if code in SERVICE_CLOSE_CODES:
            protocol.sendCloseFrame(code=code, isReply=False)
        else:
            daphne_close(protocol, code)

    WebSocketProtocol.serverClose = server_close

    daphne_factory_init = WebSocketFactory.__init__

    def factory_init(factory: Any, *args: Any, **kwargs: Any) -> None:
        daphne_factory_init(factory, *args, **kwargs)
        factory.setProtocolOptions(failByDrop=False)

    WebSocketFactory.__init__ = factory_init

    global send_buffer_limit
    send_buffer_limit = settings.SOCKET_SEND_BUFFER_BYTES
    daphne_reply = WebSocketProtocol.handle_reply

    def handle_reply(protocol: Any, message: dict[str, Any]) -> None:
        if message.get("type") == "websocket.send":
            text = message.get("text")
            # Daphne sends nothing for an empty text; neither does this. write_frame checks
            # the send buffer itself; other messages are checked here.
            if text and message.get("bytes") is None:
                if write_frame(protocol, frames.text_frame(text)):
                    return
            elif unsent_bytes(protocol.transport) > send_buffer_limit:
                drop(protocol)
                return
        daphne_reply(protocol, message)

    WebSocketProtocol.handle_reply = handle_reply

    daphne_create_application = Server.create_application

    def create_application(server: Any, protocol: Any, scope: dict[str, Any]) -> Any:
        if isinstance(protocol, WebSocketProtocol):
            extensions = {
                **scope.get("extensions", {}),
                frames.EXTENSION: partial(write_frame, protocol),
            }
            scope = {**scope, "extensions": extensions}
        return daphne_create_application(server, protocol, scope)

    Server.create_application = create_application

    autobahn_protocol.pformat = FormattedWhenLogged  # type: ignore[attr-defined,assignment]

    for name in WebSocketProtocol.CONFIG_ATTRS:
        setattr(WebSocketProtocol, name, property(partial(factory_option, name=name)))


def factory_option(protocol: Any, *, name: str) -> Any:
    return getattr(protocol.factory, name)


def unsent_bytes(transport: Any) -> int:
    """Bytes written to a Twisted TCP transport that the kernel has not taken yet (0 for
    transports that do not keep the usual FileDescriptor buffers, such as TLS)."""
    buffered = getattr(transport, "dataBuffer", b"")
    offset = getattr(transport, "offset", 0)
    pending = getattr(transport, "_tempDataLen", 0)
    return len(buffered) - offset + pending


# Bytes a connection may leave unsent before it is dropped (SOCKET_SEND_BUFFER_BYTES).
send_buffer_limit = 0


def write_frame(protocol: Any, frame: bytes) -> bool:
    """Write a ready-made frame to a Daphne WebSocket, or say False: it is not open, or it
    compresses its messages (permessage-deflate), and the caller sends the ordinary way."""
    if protocol.state != protocol.STATE_OPEN or protocol._perMessageCompress is not None:
        return False
    transport = protocol.transport
    if unsent_bytes(transport) > send_buffer_limit:
        drop(protocol)
        return True
    write_now(transport, frame)
    return True


def drop(protocol: Any) -> None:
    logger.info("Dropping a WebSocket client that stopped reading")
    metrics.DROPS.inc()
    protocol.transport.abortConnection()


def write_now(transport: Any, data: bytes) -> None:
    """Send `data` on a Twisted TCP transport now if nothing else waits to be sent, buffering
    only the rest; anything unusual (TLS, a closing or already busy connection) takes
    Twisted's own write(), which keeps the order."""
    if (
        unsent_bytes(transport)
        or getattr(transport, "TLS", True)
        or not getattr(transport, "connected", False)
        or transport.disconnecting
        or not hasattr(transport, "writeSomeData")
    ):
        transport.write(data)
        return
    sent = transport.writeSomeData(data)
    if not isinstance(sent, int):
        # The connection is gone: Twisted's write() finds out and closes it the usual way.
        sent = 0
    if sent < len(data):
        transport.write(data[sent:])


class FormattedWhenLogged:
    """Stands in for pformat(obj) in a log call's arguments: formats only if it is logged."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __str__(self) -> str:
        return pformat(self.obj)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)
