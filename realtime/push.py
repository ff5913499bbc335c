"""Sending rendered HTML to the sockets in a group.

Every live update in the project is one rendered fragment sent to one group; each process's hub
(realtime.hub) hands it to its page sockets (realtime.sockets.consumer), and htmx swaps it
in by id.

Pushes are made on commit, in a worker thread of the server (a view's, or for a socket action
the one thread `database_sync_to_async` runs every socket write in). Waiting there for the
channel layer would hold that thread until the event loop got round to Redis and back. So in a
server the push is handed to the event loop, whose outbox sends the pushes, each carrier's
in the order they were made (Outbox), and the thread goes on. Elsewhere (a management command, the
task worker) it is sent before push_html returns.

A write may commit while its server stops (its transaction waited on a lock, a slow disk, a
database failover). Once the server has started stopping (close_outbox), its loop is not
waited for: the committing thread sends the push itself, within STOPPED_PUSH_SECONDS, so the
pages on the other processes show it; if that fails too it is logged, and the pages find the
message when they resume from their cursors.
"""

import asyncio
import contextlib
import logging
import os
import threading
import weakref
from collections import deque
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

from realtime import metrics
from realtime.hub.messages import PUSH, batch_event, carrier, leave_event, push_event
from realtime.loops import per_loop

logger = logging.getLogger(__name__)

# Pushes waiting in one process's outbox at most. Past that the channel layer is not keeping
# up: a push is dropped and logged; pages catch up from their cursors when they reconnect.
OUTBOX_LIMIT = 10_000
# Pushes waiting for one carrier leave in one layer message (Outbox.next_batch), up to this
# many, and this many characters of HTML: one round of Redis calls instead of one per push.
BATCH_PUSHES = 100
BATCH_BYTES = 256 * 1024
# Pushes for other carriers a batch may look past.
BATCH_SCAN = 400
# How long a thread may spend sending a push itself once its server is stopping.
STOPPED_PUSH_SECONDS = 2.0
# How long a stopping server waits for its outbox to be sent.
OUTBOX_CLOSE_SECONDS = 2.0

# The server loops that have started stopping: pushes no longer go through them.
_stopping_loops: "weakref.WeakSet[asyncio.AbstractEventLoop]" = weakref.WeakSet()
_stopping_lock = threading.Lock()


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


def send(group: str, message: dict[str, Any]) -> None:
    loop = server_loop()
    if loop is None:
        async_to_sync(group_send)(group, message)
        return
    with _stopping_lock:
        if loop.is_running() and loop not in _stopping_loops:
            loop.call_soon_threadsafe(outbox_put, group, message)
            return
    send_while_stopping(group, message)


def send_while_stopping(group: str, message: dict[str, Any]) -> None:
    """From a thread of a server that is stopping: the push leaves from this thread, on a loop
    of its own (the layer keeps connections per loop), or is logged as dropped."""
    if isinstance(get_channel_layer(), InMemoryChannelLayer):
        # Only this process's sockets could receive it, and they are closing: their pages
        # resume from their cursors.
        logger.info("Server stopping: a push to %s is left to the pages' resume", group)
        return

    async def bounded() -> None:
        async with asyncio.timeout(STOPPED_PUSH_SECONDS):
            await group_send(group, message)

    try:
        asyncio.run(bounded())
    except Exception:
        logger.warning(
            "Server stopping: a push to %s was not sent; pages resume from their cursors",
            group,
            exc_info=True,
        )
        metrics.PUSHES_DROPPED.inc()


async def group_send(group: str, message: dict[str, Any]) -> None:
    """A push to the layer group that carries `group` (carrier_send)."""
    await carrier_send(carrier(group), [message])


async def carrier_send(name: str, messages: list[dict[str, Any]]) -> None:
    """Every push leaves through here: to the layer group `name`, one send at a time per
    carrier, so that receivers see each sender's sequence numbers in the order they were
    given (realtime.sequence). Several pushes travel as one batch, which the hub unpacks."""
    message = messages[0] if len(messages) == 1 else batch_event(messages)
    async with get_turns().turn(name):
        await get_channel_layer().group_send(name, message)


class Turns:
    """A FIFO lock per carrier, kept only while in use."""

    def __init__(self) -> None:
        self.locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def turn(self, name: str) -> AsyncIterator[None]:
        lock, users = self.locks.get(name) or (asyncio.Lock(), 0)
        self.locks[name] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self.locks[name]
            if users == 1:
                del self.locks[name]
            else:
                self.locks[name] = (lock, users - 1)


get_turns = per_loop(Turns)


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop this thread works for (asgiref records it in the threads of
    sync_to_async), running or stopped, or None."""
    local = SyncToAsync.threadlocal
    loop: asyncio.AbstractEventLoop | None = getattr(local, "main_event_loop", None)
    if loop is None or getattr(local, "main_event_loop_pid", None) != os.getpid():
        return None
    return loop


class Outbox:
    """Group messages handed over by worker threads, sent by one task.

    Pushes waiting for the same carrier leave together (next_batch): a message saved in a
    busy room makes two pushes (the room's, and its room lists'), so pushes for one carrier
    rarely queue right behind each other. A push may go ahead of pushes for other carriers
    handed over before it, never ahead of a leave or session change (a page must not get a
    room's message after it was removed from the room), and never ahead of its own
    carrier's: each carrier's numbers stay in order (realtime.sequence).
    """

    def __init__(self) -> None:
        # (number, group, message), oldest first; a push's number is its place in hand-over.
        self.waiting: deque[tuple[int, str, dict[str, Any]]] = deque()
        self.sending: asyncio.Task[None] | None = None
        self.handed = 0  # pushes handed over so far
        self.in_flight: int | None = None  # the oldest number in the send under way
        self.progress = asyncio.Condition()

    def put(self, group: str, message: dict[str, Any]) -> None:
        # Past the limit pushes are dropped (pages resume what they missed), but never a leave
        # or a session change: a page must stop hearing a room it was removed from.
        if len(self.waiting) >= OUTBOX_LIMIT and message.get("type") == PUSH:
            logger.warning("Outbox full: a push to %s was dropped", group)
            metrics.PUSHES_DROPPED.inc()
            return
        self.waiting.append((self.handed, group, message))
        self.handed += 1
        if self.sending is None or self.sending.done():
            self.sending = asyncio.get_running_loop().create_task(self.send_all())

    async def send_all(self) -> None:
        while self.waiting:
            self.in_flight = self.waiting[0][0]
            name, messages = self.next_batch()
            try:
                await carrier_send(name, messages)
            except Exception:
                # As a failing on_commit callback would: logged, and the pushes after it go on.
                logger.exception("Could not push to %s (%d pushes)", name, len(messages))
                metrics.PUSHES_DROPPED.inc(len(messages))
            self.in_flight = None
            async with self.progress:
                self.progress.notify_all()

    def next_batch(self) -> tuple[str, list[dict[str, Any]]]:
        """The oldest push, with the pushes for its carrier queued behind it, as far as the
        next leave or session change (and BATCH_PUSHES, BATCH_BYTES, BATCH_SCAN)."""
        _, group, message = self.waiting.popleft()
        name = carrier(group)
        batch = [message]
        size = html_size(message)
        if message.get("type") != PUSH:
            return name, batch
        passed: list[tuple[int, str, dict[str, Any]]] = []  # other carriers', left in order
        while self.waiting and len(batch) < BATCH_PUSHES and len(passed) < BATCH_SCAN:
            number, group, message = self.waiting[0]
            if message.get("type") != PUSH:
                break
            if carrier(group) == name:
                size += html_size(message)
                if size > BATCH_BYTES:
                    break
                batch.append(message)
            else:
                passed.append((number, group, message))
            self.waiting.popleft()
        self.waiting.extendleft(reversed(passed))
        return name, batch

    def unsent_from(self) -> int:
        """The number of the oldest push not yet sent (nor failed)."""
        if self.in_flight is not None:
            return self.in_flight
        return self.waiting[0][0] if self.waiting else self.handed

    def flush(self) -> Coroutine[Any, Any, None]:
        """Wait until every push handed over before this call is sent (or failed); not those
        handed over later, so that a steady stream of pushes keeps nobody waiting for long."""
        return self.sent_up_to(self.handed)

    async def sent_up_to(self, handed: int) -> None:
        async with self.progress:
            await self.progress.wait_for(lambda: self.unsent_from() >= handed)


def html_size(message: dict[str, Any]) -> int:
    html = message.get("html")
    return len(html) if isinstance(html, str) else 0


# The outbox of the running event loop.
get_outbox = per_loop(Outbox)


def outbox_put(group: str, message: dict[str, Any]) -> None:
    get_outbox().put(group, message)


def flush_pushes() -> Coroutine[Any, Any, None]:
    return get_outbox().flush()


async def close_outbox() -> None:
    """The server is stopping: the pushes handed over so far are sent (for OUTBOX_CLOSE_SECONDS
    at most), and threads send those made from now on themselves (send_while_stopping)."""
    with _stopping_lock:
        _stopping_loops.add(asyncio.get_running_loop())
    # The hand-overs queued before the lock was taken run before this task goes on.
    await asyncio.sleep(0)
    try:
        async with asyncio.timeout(OUTBOX_CLOSE_SECONDS):
            await flush_pushes()
    except TimeoutError:
        waiting = len(get_outbox().waiting)
        logger.warning(
            "Server stopping: %d pushes not sent; pages resume from their cursors", waiting
        )
