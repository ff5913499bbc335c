"""Four fixes to how Daphne handles WebSocket connections.

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

Daphne's command line imports its server before it loads the application, so realtime.asgi
applies these when it is imported. Outside Daphne they change nothing.
"""

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from django.conf import settings

from realtime import metrics

logger = logging.getLogger(__name__)

# Close codes a server may send that autobahn's sendClose refuses.
SERVICE_CLOSE_CODES = frozenset({1011, 1012, 1013, 1014})

_adapted = False


def adapt_daphne(*, on_shutdown: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Once per process, when Daphne serves it; `on_shutdown` runs when the server stops."""
    global _adapted
    if _adapted or "daphne.server" not in sys.modules:
        return
    _adapted = True
    from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
    from twisted.internet import reactor
    from twisted.internet.defer import Deferred

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

    daphne_reply = WebSocketProtocol.handle_reply
    limit = settings.SOCKET_SEND_BUFFER_BYTES

    def handle_reply(protocol: Any, message: dict[str, Any]) -> None:
        if message.get("type") == "websocket.send" and unsent_bytes(protocol.transport) > limit:
            logger.info("Dropping a WebSocket client that stopped reading")
            metrics.DROPS.inc()
            protocol.transport.abortConnection()
            return
        daphne_reply(protocol, message)

    WebSocketProtocol.handle_reply = handle_reply

    # Typed through zope.interface, whose method signatures mypy misreads.
    events: Any = reactor
    events.addSystemEventTrigger(
        "before", "shutdown", lambda: Deferred.fromFuture(asyncio.ensure_future(on_shutdown()))
    )


def unsent_bytes(transport: Any) -> int:
    """Bytes written to a Twisted TCP transport that the kernel has not taken yet (0 for
    transports that do not keep the usual FileDescriptor buffers, such as TLS)."""
    buffered = getattr(transport, "dataBuffer", b"")
    offset = getattr(transport, "offset", 0)
    pending = getattr(transport, "_tempDataLen", 0)
    return len(buffered) - offset + pending
