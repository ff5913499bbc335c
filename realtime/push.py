"""Sending rendered HTML to the sockets in a group.

Every live update in the project is one rendered fragment sent to one group; each process's hub
(realtime.hub) hands it to its page sockets (realtime.sockets.PageConsumer), and htmx swaps it
in by id.

Pushes are made on commit, in a worker thread of the server (a view, or a socket action in
`database_sync_to_async`). Waiting there for the channel layer would hold the one thread all
database work of the process shares until the event loop got round to Redis and back. So in a
server the push is handed to the event loop, whose outbox sends the pushes one after another,
in the order they were made, and the thread goes on. Elsewhere (a management command, the
task worker) it is sent before push_html returns.
"""

import asyncio
import logging
import os
from collections import deque
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer

from realtime import metrics
from realtime.hub import carrier, close_event, leave_event, push_event
from realtime.loops import per_loop

logger = logging.getLogger(__name__)

# Pushes waiting in one process's outbox at most. Past that the channel layer is not keeping
# up: a push is dropped and logged; pages catch up from their cursors when they reconnect.
OUTBOX_LIMIT = 10_000


def push_html(group: str, html: str) -> None:
    """Send `html` to every socket in `group`. Called from synchronous code, on commit."""
    send(group, push_event(group, html))


async def apush_html(group: str, html: str) -> None:
    """The same, from code already running on the event loop."""
    await group_send(group, push_event(group, html))


def push_leave(group: str, *, leave: str, html: str) -> None:
    """Make every socket in `group` leave the group `leave`; those that were in it get `html`.
    Called on commit, when someone loses access to a room."""
    send(group, leave_event(group, leave=leave, html=html))


def push_close(group: str, *, code: int) -> None:
    """Close every socket in `group` with `code` (e.g. one person's tabs when the account is
    removed). Called on commit."""
    send(group, close_event(group, code=code))


def send(group: str, message: dict[str, Any]) -> None:
    loop = server_loop()
    if loop is None:
        async_to_sync(group_send)(group, message)
        return
    loop.call_soon_threadsafe(outbox_put, group, message)


async def group_send(group: str, message: dict[str, Any]) -> None:
    """Every push leaves through here: to the layer group that carries `group`."""
    await get_channel_layer().group_send(carrier(group), message)


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop this thread works for (asgiref records it in the threads of
    sync_to_async), or None."""
    local = SyncToAsync.threadlocal
    loop: asyncio.AbstractEventLoop | None = getattr(local, "main_event_loop", None)
    if loop is None or getattr(local, "main_event_loop_pid", None) != os.getpid():
        return None
    return loop if loop.is_running() else None


class Outbox:
    """Group messages handed over by worker threads, sent by one task in the order given."""

    def __init__(self) -> None:
        self.waiting: deque[tuple[str, dict[str, Any]]] = deque()
        self.sending: asyncio.Task[None] | None = None

    def put(self, group: str, message: dict[str, Any]) -> None:
        if len(self.waiting) >= OUTBOX_LIMIT:
            logger.warning("Outbox full: a push to %s was dropped", group)
            metrics.PUSHES_DROPPED.inc()
            return
        self.waiting.append((group, message))
        if self.sending is None or self.sending.done():
            self.sending = asyncio.get_running_loop().create_task(self.send_all())

    async def send_all(self) -> None:
        while self.waiting:
            group, message = self.waiting.popleft()
            try:
                await group_send(group, message)
            except Exception:
                # As a failing on_commit callback would: logged, and the pushes after it go on.
                logger.exception("Could not push to %s", group)
                metrics.PUSHES_DROPPED.inc()

    async def flush(self) -> None:
        """Wait until every push handed over so far is sent (or failed)."""
        while self.sending is not None and not self.sending.done():
            await asyncio.shield(self.sending)


# The outbox of the running event loop.
get_outbox = per_loop(Outbox)


def outbox_put(group: str, message: dict[str, Any]) -> None:
    get_outbox().put(group, message)


async def flush_pushes() -> None:
    await get_outbox().flush()
