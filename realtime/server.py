"""Two fixes to how Daphne ends WebSocket connections, applied once a socket is open.

1. Daphne closes sockets through autobahn's `sendClose`, which accepts only 1000 and
   3000-4999: asked for 1011, 1012 or 1013 it raises, and no close frame is sent at all. Those
   are the codes after which a page reconnects by itself (RFC 6455 and the IANA registry let a
   server send them), so they are sent as close frames directly.
2. On SIGTERM Daphne cancels its applications (and, with an idle HTTP connection open, fails
   to: its shutdown trigger raises KeyError), then drops every connection without a close
   frame, which a browser reports as 1006. A shutdown trigger of our own runs first and is
   awaited by Twisted: it closes the sockets properly and waits for the clients to answer.

Outside Daphne (tests, other ASGI servers) nothing here does anything.
"""

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

logger = logging.getLogger(__name__)

# Close codes a server may send that autobahn's sendClose refuses.
SERVICE_CLOSE_CODES = frozenset({1011, 1012, 1013, 1014})

_prepared = False


def prepare(on_shutdown: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Once per process, under a running Daphne: both fixes; `on_shutdown` runs on SIGTERM."""
    global _prepared
    reactor = sys.modules.get("twisted.internet.reactor")
    if _prepared or reactor is None or not getattr(reactor, "running", False):
        return
    _prepared = True
    allow_service_close_codes()
    from twisted.internet.defer import Deferred

    reactor.addSystemEventTrigger(
        "before", "shutdown", lambda: Deferred.fromFuture(asyncio.ensure_future(on_shutdown()))
    )


def allow_service_close_codes() -> None:
    from daphne.ws_protocol import WebSocketProtocol

    daphne_close = WebSocketProtocol.serverClose

    def server_close(protocol: Any, code: int | None = None) -> None:
        if code in SERVICE_CLOSE_CODES:
            protocol.sendCloseFrame(code=code, isReply=False)
        else:
            daphne_close(protocol, code)

    WebSocketProtocol.serverClose = server_close
