"""PageConsumer: one tab's socket, from handshake to close.

It authenticates and lets its parts (realtime.sockets.parts) say what to join, joins those
groups in the process's hub (realtime.hub), reads the client's frames into a bounded inbox and
hands each to the part that handles its action, and relays what the hub delivers. Whatever
ends it (the client, a refusal, a signed-out session, a server stopping), one place gives
back what it held.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from realtime import frames, metrics
from realtime.admission import get_admission
from realtime.hub.hub import get_hub
from realtime.inbound import Inbox, encodable
from realtime.revocation import SocketLogin, after
from realtime.sockets.closes import (
    BUSY,
    CLOSE_SERVICE_RESTART,
    CLOSE_TOO_MANY_FRAMES,
    CLOSE_TRY_AGAIN_LATER,
    CLOSE_UNAUTHENTICATED,
    CLOSE_UNAVAILABLE,
    UNAVAILABLE,
    socket_error_html,
)
from realtime.sockets.dispatch import FrameDispatch
from realtime.sockets.opening import admit, catch_up_all, load, open_sockets, opening_threads
from realtime.sockets.outgoing import Outgoing, eager_task, settle
from realtime.sockets.pages import SHUTDOWN_SECONDS, open_pages
from realtime.sockets.parts import Cleanup, Part, PartFactory, Refused

logger = logging.getLogger(__name__)

# Sessions expire by the wall clock (tests replace it).
wall_clock = time.time

ASGIMessage = dict[str, Any]
Receive = Callable[[], Awaitable[ASGIMessage]]
Send = Callable[[ASGIMessage], Awaitable[None]]


class PageConsumer(AsyncWebsocketConsumer):
    """One tab's socket. It has no channel of its own on the layer: the process's hub
    (realtime.hub) receives each group message once and calls `deliver` on every member."""

    def __init__(self, parts: Sequence[PartFactory] = ()) -> None:
        super().__init__()
        self.parts = parts
        self.joined: list[str] = []
        self.outgoing = Outgoing(
            self.send, limit=settings.SOCKET_BACKLOG_LIMIT, overflowed=self.overflowed
        )
        self.closing = False
        self.leaving: set[asyncio.Task[None]] = set()
        self.cleanups: list[Cleanup] = []
        # The user this socket is counted against in open_sockets, while it is.
        self.counted_as: int | None = None
        self.gone: asyncio.Future[None] | None = None  # see wait_gone; made for a waiter
        # The session that opened this socket, once open (realtime.revocation).
        self.login: SocketLogin | None = None
        # Session changes heard while the socket was joining its groups, before `login` was
        # set: applied once it is (else a sign-out in that window would leave it open).
        self.early_changes: list[dict[str, Any]] | None = None
        self.expiry: asyncio.TimerHandle | None = None  # closes the socket when the session ends
        self.inbox = Inbox(frames=settings.SOCKET_INBOX_FRAMES, size=settings.SOCKET_INBOX_BYTES)
        self.incoming = FrameDispatch(reply=self.send_html)
        self.counted_open = False  # counted in metrics.SOCKETS
        self.cleaned_up = False

    async def __call__(self, scope: ASGIMessage, receive: Receive, send: Send) -> None:
        # Channels' AsyncConsumer.__call__ would open a layer channel and a receive loop for
        # this socket alone; only the client's frames are read here, by a reader of their own
        # into a bounded inbox, while this loop handles them one after another.
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        self.outgoing.write_frame = scope.get("extensions", {}).get(frames.EXTENSION)
        reader = asyncio.get_running_loop().create_task(self.read(receive))
        try:
            while True:
                await self.dispatch(await self.inbox.get())
        except StopConsumer:
            pass
        except asyncio.CancelledError:
            # Daphne cancels every application when it shuts down (SIGTERM) and then drops
            # the connections. Say "service restart" first: the page reconnects to another
            # process, or to this one once it is back, and resumes from its cursor.
            await self.shut_down(reader)
            raise
        except Exception:
            # A bug outside any action's guard: the page is told to retry, as after an outage.
            logger.exception("A page socket failed")
            self.close_soon(CLOSE_UNAVAILABLE)
        finally:
            # Whatever ended the socket, this one place gives back what it held: its place
            # under the cap, its presence, its hub memberships.
            reader.cancel()
            await self.clean_up()

    async def read(self, receive: Receive) -> None:
        """Everything the client sends, as it arrives, into the inbox; until it disconnects."""
        try:
            while True:
                message = await receive()
                if message["type"] != "websocket.receive":
                    self.inbox.put(message)
                    if message["type"] == "websocket.disconnect":
                        return
                elif not self.closing and not self.inbox.put(message):
                    self.flooded()
        except Exception:
            # The server failed to hand over a message: the socket cannot go on.
            logger.exception("Reading from a page socket failed")
            self.inbox.put({"type": "websocket.disconnect", "code": CLOSE_UNAVAILABLE})

    async def shut_down(self, reader: "asyncio.Task[None]") -> None:
        was_open = not self.closing and bool(self.incoming.handlers or self.joined)
        if was_open:
            self.close_soon(CLOSE_SERVICE_RESTART)
        self.release()
        try:
            async with asyncio.timeout(SHUTDOWN_SECONDS):
                # Twisted writes the close frame on a later turn of its loop, and drops every
                # connection once all applications have returned: wait for the client to
                # answer the close (the reader ends when it does), while leaving the groups.
                await asyncio.gather(
                    self.leave_groups(), asyncio.wait([reader]) if was_open else asyncio.sleep(0)
                )
        except TimeoutError:
            logger.warning("Shutting a socket down took over %s s", SHUTDOWN_SECONDS)
        except Exception:
            logger.warning("Could not leave the groups while shutting down", exc_info=True)

    async def dispatch(self, message: Mapping[str, Any]) -> None:
        # Unlike AsyncConsumer.dispatch, no hop to a thread to close old database
        # connections before every message: handlers that use the database do their work in
        # database_sync_to_async, which does that itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        admission = get_admission()
        if not await admission.enter():
            await self.refuse(Refused(CLOSE_TRY_AGAIN_LATER, BUSY, explain=True))
            return
        try:
            await self.open()
        finally:
            admission.leave()

    async def open(self) -> None:
        try:
            opening = await database_sync_to_async(
                load, thread_sensitive=False, executor=opening_threads
            )(
                self.scope,
                self.parts,
                reply=self.send_html,
                leave=self.leave_group,
                on_close=self.cleanups.append,
            )
        except Exception:
            # The database is down (the session cannot even be read): not "signed out". The
            # page is told, and tries again.
            logger.exception("Could not open a page socket")
            await self.refuse(Refused(CLOSE_UNAVAILABLE, UNAVAILABLE, explain=True))
            return
        user = opening.user
        refusal = admit(user, client=self.scope.get("client"))
        if refusal is None:
            self.counted_as = user.pk
            refusal = opening.refusal
        if refusal is not None:
            await self.refuse(refusal)
            return
        hub = get_hub()
        self.joined = opening.groups
        # Pushes that arrive before the handshake is complete wait for it: nothing may be sent
        # on a socket that is not yet accepted.
        self.outgoing.hold()
        self.early_changes = []
        try:
            # Every join settles before one failure is acted upon: a join still under way
            # would otherwise add a membership after the groups were left.
            joins = [hub.join(group, self) for group in opening.groups]
            outcomes = await asyncio.gather(*joins, return_exceptions=True)
            failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
            if failures:
                raise failures[0]
        except Exception as error:
            # The channel layer is down: likewise.
            self.outgoing.drop()
            self.early_changes = None
            logger.error("Could not open a page socket", exc_info=error)
            await self.leave_groups()
            await self.refuse(Refused(CLOSE_UNAVAILABLE, UNAVAILABLE, explain=True))
            return
        except BaseException:
            self.outgoing.drop()
            self.early_changes = None
            await self.leave_groups()
            raise
        self.incoming.handlers = {
            name: action for part in opening.parts for name, action in part.actions().items()
        }
        self.login = opening.login
        self.counted_open = True
        metrics.SOCKETS.inc()
        open_pages.add(self)
        await self.accept()
        early, self.early_changes = self.early_changes or [], None
        for change in early:
            self.session_changed(change)
        if self.closing:
            return
        if self.login is not None and self.login.expires_at is not None:
            # An idle socket closes when its session expires too, not only at its next frame.
            delay = max(0.0, self.login.expires_at - wall_clock())
            self.expiry = asyncio.get_running_loop().call_later(delay, self.signed_out)
        await asyncio.gather(*(self.incoming.guarded(part.enter()) for part in opening.parts))
        await self.incoming.guarded(self.catch_up(opening.parts))

    async def catch_up(self, parts: Sequence[Part]) -> None:
        # Each part's catch-up is its own frame, in the parts' order, as it would be pushed.
        # Pushes that arrive meanwhile are held and sent after them: the catch-up is read in an
        # opening thread, beside the writes of the database thread, and a push of a write
        # that committed after that read must not be overtaken by the older state.
        frames: list[str] = []
        try:
            catch_up = database_sync_to_async(
                catch_up_all, thread_sensitive=False, executor=opening_threads
            )
            for outcome in await catch_up(parts):
                if isinstance(outcome, Exception):
                    frames.append(self.incoming.failure_html(outcome))
                    continue
                for group in outcome.leave:
                    await self.leave_group(group)
                if outcome.html:
                    frames.append(outcome.html)
        finally:
            self.outgoing.release(first=frames)

    async def refuse(self, refusal: Refused) -> None:
        # Accepted first so the page learns why: a refused handshake looks like a network
        # error (1006) to the browser, and htmx would retry it forever. With `explain`, the
        # reason is also shown in the page's error line.
        self.release()
        metrics.REFUSALS.labels(code=str(refusal.code)).inc()
        await self.accept()
        if refusal.explain:
            await self.send(text_data=socket_error_html(refusal.reason))
        await self.close(code=refusal.code, reason=refusal.reason)

    def release(self) -> None:
        if self.counted_as is not None:
            open_sockets.close(self.counted_as)
            self.counted_as = None

    async def websocket_disconnect(self, message: ASGIMessage) -> None:
        # Unlike Channels' handler, no group_discard (the hub holds the memberships) and no hop
        # to the database thread to close old connections: database_sync_to_async does that
        # around every call. Under a burst of refused sockets those hops queued in front of
        # the sockets still opening.
        await self.disconnect(message["code"])
        raise StopConsumer()

    async def disconnect(self, code: int) -> None:
        await self.clean_up()

    async def clean_up(self) -> None:
        """Give back all the socket held; once, however it ended."""
        if self.cleaned_up:
            return
        self.cleaned_up = True
        if self.expiry is not None:
            self.expiry.cancel()
        if self.counted_open:
            metrics.SOCKETS.dec()
        self.closing = True
        self.outgoing.stop()
        self.release()
        open_pages.discard(self)
        if self.gone is not None and not self.gone.done():
            self.gone.set_result(None)
        cleanups, self.cleanups = self.cleanups, []
        try:
            await self.leave_groups()
        finally:
            outcomes = await asyncio.gather(*(c() for c in cleanups), return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    logger.warning("A part's cleanup failed", exc_info=outcome)
            self.incoming.summarise(self.login.user_id if self.login else None)

    async def wait_gone(self) -> None:  # realtime.sockets.pages.Page
        if not self.cleaned_up:
            self.gone = self.gone or asyncio.get_running_loop().create_future()
            await asyncio.shield(self.gone)  # a waiter that gives up leaves it to the others

    async def leave_groups(self) -> None:
        hub = get_hub()
        groups, self.joined = self.joined, []
        await asyncio.gather(*(hub.leave(group, self) for group in groups))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing or self.login is None:
            return  # closing (e.g. signed out), or refused: nothing more is done for it
        if self.login.expired(wall_clock()):
            self.signed_out()
            return
        await self.incoming.guarded(self.incoming.handle(text_data, user_id=self.login.user_id))

    async def send_html(self, html: str) -> None:
        """Replies share the outgoing queue with pushes, so the page sees them in order. A
        reply may quote what the client sent: it is made encodable whatever that was."""
        self.deliver(encodable(html))

    def session_changed(self, change: dict[str, Any]) -> None:
        """From the hub: a session or the account of this socket's person changed."""
        if self.login is None:
            if self.early_changes is not None:
                self.early_changes.append(change)
            return
        updated = after(self.login, change)
        if updated is None:
            self.signed_out()
        else:
            self.login = updated

    def signed_out(self) -> None:
        """The session that opened this socket is no longer valid: the page goes to sign-in."""
        self.close_soon(CLOSE_UNAUTHENTICATED)

    def flooded(self) -> None:
        """Frames arrive faster than they are handled, past the inbox's bounds."""
        if self.incoming.failures.note("flooded"):
            logger.info("A page socket sent frames faster than handled; closing it")
        self.close_soon(CLOSE_TOO_MANY_FRAMES)

    def deliver(self, html: str, frame: bytes | None = None) -> None:
        """From the hub (and the socket's own replies): `html` for the page, in its turn."""
        if not self.closing:
            self.outgoing.put(html, frame)

    def deliver_many(self, htmls: Sequence[str], frames: Sequence[bytes]) -> None:
        if not self.closing:
            self.outgoing.put_many(htmls, frames)

    def overflowed(self) -> None:
        """The client reads slower than messages arrive: let it go rather than buffer without
        bound. It reconnects later and resumes from its cursor."""
        metrics.DROPS.inc()
        self.close_soon(CLOSE_TRY_AGAIN_LATER)

    def interrupted(self) -> None:
        self.close_soon(CLOSE_SERVICE_RESTART)

    def removed(self, group: str, html: str) -> None:
        """Access to `group` ended (e.g. removed from a private room): nothing more of it
        reaches this socket, and the page is told why (unless `html` is empty)."""
        if group not in self.joined:
            return
        self.joined.remove(group)
        if html:
            self.deliver(html)
        # Eager: the hub drops this socket from the group's members now, before it hands on
        # a push of that group that arrived with the leave.
        leaving = eager_task(get_hub().leave(group, self))
        self.leaving.add(leaving)
        leaving.add_done_callback(self.leaving.discard)

    async def leave_group(self, group: str) -> None:
        if group in self.joined:
            self.joined.remove(group)
            await get_hub().leave(group, self)

    def close_soon(self, code: int) -> None:
        if self.closing:
            return
        self.closing = True
        self.outgoing.stop()
        closing = eager_task(self.close(code=code))
        if closing.done():
            settle(closing)
        else:
            closing.add_done_callback(settle)
