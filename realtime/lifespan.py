"""The ASGI lifespan protocol, for servers that speak it (uvicorn; Daphne does not).

At `lifespan.startup` the process's own start work (the embedded workers: realtime.embedded)
runs on the server's event loop, before the server takes connections. On SIGTERM uvicorn
stops listening, closes every WebSocket with 1012 itself (each page reconnects and resumes
from its cursor), waits for the applications to return, and then sends `lifespan.shutdown`:
the process's own shutdown work runs there, before the event loop ends. Daphne's equivalents
are startup and shutdown triggers of its reactor (realtime.server).
"""

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

logger = logging.getLogger(__name__)

Message = dict[str, Any]
ASGIApp = Callable[
    [Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


def lifespan(
    *,
    on_startup: Callable[[], Coroutine[Any, Any, None]],
    on_shutdown: Callable[[], Coroutine[Any, Any, None]],
) -> ASGIApp:
    """An application for the "lifespan" scope: `on_startup` at startup, `on_shutdown` at
    shutdown. A failure is logged here and reported to the server, which logs it too (and
    does not start, if it was the startup's)."""

    async def application(
        scope: Message,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await on_startup()
                except Exception as error:
                    logger.exception("Starting up failed")
                    await send({"type": "lifespan.startup.failed", "message": repr(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await on_shutdown()
                except Exception as error:
                    logger.exception("Shutting down failed")
                    await send({"type": "lifespan.shutdown.failed", "message": repr(error)})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                return

    return application
