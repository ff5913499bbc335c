"""The page socket: one WebSocket per browser tab, composed of small parts.

A page opens one socket (`ws-connect` on <body>) whose query string says what the page shows,
e.g. `/ws/?room=general`. Each *part* looks at that and answers which groups to join and which
frame actions it handles: the viewer's personal group, the room's group, and so on. The
consumer itself only authenticates, joins, routes frames to parts, and relays pushed HTML.

Opening a socket takes two calls to the one database thread, whatever the parts: one that
authenticates and runs every part's `load` (what to join), one that runs every part's
`catch_up` (what the page may have missed) once the groups are joined. Sockets open a few at a
time, in arrival order (realtime.admission).
"""

import asyncio
import contextlib
import functools
import logging
import time
import uuid
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import InterfaceError, OperationalError
from django.template.loader import render_to_string

from realtime import frames, inbound, metrics
from realtime.admission import get_admission
from realtime.auth import scope_login
from realtime.budgets import FRAME_COST, action_cost, within_budget
from realtime.hub import get_hub
from realtime.inbound import Failures, Inbox, encodable
from realtime.limits import BucketMap, OpenCounts, attempt_key
from realtime.revocation import SocketLogin, after, sockets_group

logger = logging.getLogger(__name__)

# Close codes (4000-4999 are for applications). htmx's ws extension reconnects only after
# 1006/1011/1012/1013, so a refusal is final for that page and does not loop.
CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHENTICATED = 4401  # also: the session ended (signed out, password changed, expired)
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_MANY_SOCKETS = 4409  # SOCKETS_PER_USER already open in this process
CLOSE_TOO_MANY_FRAMES = 4413  # frames arrived faster than handled, past SOCKET_INBOX_*
CLOSE_TOO_MANY_ATTEMPTS = 4429  # connection attempts beyond SOCKET_CONNECT_BURST/_RATE
CLOSE_UNAVAILABLE = 1011  # the database or the channel layer failed; the page retries later
CLOSE_SERVICE_RESTART = 1012  # the page reconnects and resumes
CLOSE_TRY_AGAIN_LATER = 1013  # likewise: fell too far behind, or waited too long to open

TOO_MANY_SOCKETS = "Relay is open in too many tabs. Close one, then reload this page."
TOO_MANY_ATTEMPTS = "Too many connection attempts. Wait a minute, then reload this page."
UNAVAILABLE = "Live updates are unavailable at the moment. Retrying…"
BUSY = "Relay is busy at the moment. Retrying…"
DATABASE_UNAVAILABLE = "That was not done: the database is unavailable. Try again in a moment."
FAILED = "Something went wrong on our side; that was not done. Try again."
BAD_REQUEST = "This page's address is not valid."
TOO_FAST = "That was not done: too many requests. Wait a moment, then try again."

# What an unreachable database raises (other database errors are bugs, not outages).
DATABASE_DOWN = (OperationalError, InterfaceError)

# Bounded, per process: the sockets each user has open, and a token bucket per account (or
# per address, for attempts without a session) for opening new ones.
open_sockets = OpenCounts()
connection_attempts = BucketMap(capacity=settings.SOCKET_LIMIT_KEYS)
# Every open page socket of this process, to close them all when the server stops.
open_pages: "weakref.WeakSet[PageConsumer]" = weakref.WeakSet()

# Sessions expire by the wall clock (tests replace it).
wall_clock = time.time

SOCKET_PATH = "/ws/"
# How long a stopping server waits for clients to answer its close, and for the channel layer.
SHUTDOWN_SECONDS = 2.0

Frame = Mapping[str, Any]
ASGIMessage = dict[str, Any]
Receive = Callable[[], Awaitable[ASGIMessage]]
Send = Callable[[ASGIMessage], Awaitable[None]]
Action = Callable[[Frame], Awaitable[None]]
Cleanup = Callable[[], Awaitable[None]]


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Connection:
    """What a part may know about, and do with, the socket it belongs to."""

    user: User
    params: Mapping[str, str]
    reply: Callable[[str], Awaitable[None]]
    # Unique per socket: what tells two tabs of one person apart (e.g. in presence).
    socket_id: str
    # Registers a coroutine function to run when the socket closes.
    on_close: Callable[[Cleanup], None]
    # Stops this socket receiving a group's messages (after access to it ended).
    leave: Callable[[str], Awaitable[None]]
    # What parts read while the socket opens and share (e.g. the room a page shows), by name.
    shared: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class CatchUp:
    """What a part sends once its socket is open, and the groups it leaves again because
    access ended between joining and now."""

    html: str = ""
    leave: Sequence[str] = ()


NOTHING_MISSED = CatchUp()


class Part(Protocol):
    """Made for each socket once its user is known; `load` and `catch_up` run in the database
    thread (synchronous ORM calls are fine there), together with every other part's."""

    def load(self) -> Iterable[str]:
        """Before the socket opens: read what this part needs, and answer the groups it joins.
        Raise Refused to refuse the whole socket."""
        ...

    def actions(self) -> Mapping[str, Action]:
        """Frame handlers by the frame's `action` field."""
        ...

    async def enter(self) -> None:
        """Once the socket is open, before catching up: work away from the database (e.g.
        presence)."""
        ...

    def catch_up(self) -> CatchUp:
        """Once the socket is open: what the page may have missed."""
        ...


PartFactory = Callable[[Connection], Part]


def socket_url(**params: str) -> str:
    return f"{SOCKET_PATH}?{urlencode(params)}" if params else SOCKET_PATH


def on_page(url: str, path: str) -> str:
    """The socket URL with the page's own path added, for the parts that track pages."""
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'path': path})}"


def socket_params(query_string: bytes) -> dict[str, str]:
    return dict(parse_qsl(query_string.decode("latin-1")))


def decode_frame(text: str | None) -> Frame | str:
    """The frame as a mapping with a string `action`, or an error message for the sender."""
    return inbound.decode_frame(
        text, max_chars=settings.SOCKET_FRAME_MAX_CHARS, max_depth=settings.SOCKET_FRAME_MAX_DEPTH
    )


def params_problem(params: Mapping[str, str]) -> bool:
    """Whether the socket's query holds text no page would send (NUL, lone surrogates)."""
    return inbound.has_bad_text(dict(params))


def eager_task(coroutine: Coroutine[Any, Any, None]) -> "asyncio.Task[None]":
    """A task that runs at once, up to its first real wait; often it finishes right there."""
    return asyncio.Task(coroutine, loop=asyncio.get_running_loop(), eager_start=True)


@functools.lru_cache(maxsize=64)
def socket_error_html(message: str) -> str:
    return render_to_string("frontend/base.html#socket-error", {"socket_error": message})


class PageConsumer(AsyncWebsocketConsumer):
    """One tab's socket. It has no channel of its own on the layer: the process's hub
    (realtime.hub) receives each group message once and calls `deliver` on every member."""

    def __init__(self, parts: Sequence[PartFactory] = ()) -> None:
        super().__init__()
        self.parts = parts
        self.handlers: Mapping[str, Action] = {}
        self.joined: list[str] = []
        # Messages waiting while a send is in flight; None while nothing is in flight.
        self.backlog: deque[str] | None = None
        self.backlog_limit: int = settings.SOCKET_BACKLOG_LIMIT
        self.closing = False
        self.leaving: set[asyncio.Task[None]] = set()
        self.cleanups: list[Cleanup] = []
        # The user this socket is counted against in open_sockets, while it is.
        self.counted_as: int | None = None
        self.gone = asyncio.Event()  # set once the client has disconnected
        # Writes a ready-made frame straight to the socket, where the server offers that.
        self.write_frame: Callable[[bytes], bool] | None = None
        # The session that opened this socket, once open (realtime.revocation).
        self.login: SocketLogin | None = None
        # Session changes heard while the socket was joining its groups, before `login` was
        # set: applied once it is (else a sign-out in that window would leave it open).
        self.early_changes: list[dict[str, Any]] | None = None
        self.expiry: asyncio.TimerHandle | None = None  # closes the socket when the session ends
        self.inbox = Inbox(frames=settings.SOCKET_INBOX_FRAMES, size=settings.SOCKET_INBOX_BYTES)
        self.failures = Failures()
        self.over_budget = False  # the last frame was beyond the person's frame budget
        self.counted_open = False  # counted in metrics.SOCKETS
        self.cleaned_up = False

    async def __call__(self, scope: ASGIMessage, receive: Receive, send: Send) -> None:
        # Channels' AsyncConsumer.__call__ would open a layer channel and a receive loop for
        # this socket alone; only the client's frames are read here, by a reader of their own
        # into a bounded inbox, while this loop handles them one after another.
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        self.write_frame = scope.get("extensions", {}).get(frames.EXTENSION)
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
        was_open = not self.closing and bool(self.handlers or self.joined)
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
            await self.refuse(CLOSE_TRY_AGAIN_LATER, BUSY, explain=True)
            return
        try:
            await self.open()
        finally:
            admission.leave()

    async def open(self) -> None:
        try:
            opening = await database_sync_to_async(self.load)()
        except Exception:
            # The database is down (the session cannot even be read): not "signed out". The
            # page is told, and tries again.
            logger.exception("Could not open a page socket")
            await self.refuse(CLOSE_UNAVAILABLE, UNAVAILABLE, explain=True)
            return
        user = opening.user
        attempt = attempt_key(
            user_id=user.pk if user.is_authenticated else None, client=self.scope.get("client")
        )
        if not connection_attempts.take(
            attempt,
            rate=settings.SOCKET_CONNECT_RATE,
            burst=settings.SOCKET_CONNECT_BURST,
            now=time.monotonic(),
        ):
            await self.refuse(CLOSE_TOO_MANY_ATTEMPTS, TOO_MANY_ATTEMPTS, explain=True)
            return
        if not user.is_authenticated:
            await self.refuse(CLOSE_UNAUTHENTICATED, "Sign in to connect.")
            return
        if not open_sockets.open(user.pk, cap=settings.SOCKETS_PER_USER):
            await self.refuse(CLOSE_TOO_MANY_SOCKETS, TOO_MANY_SOCKETS, explain=True)
            return
        self.counted_as = user.pk
        if opening.refusal is not None:
            await self.refuse(opening.refusal.code, opening.refusal.reason)
            return
        hub = get_hub()
        self.joined = opening.groups
        # Pushes that arrive before the handshake is complete wait for it: nothing may be sent
        # on a socket that is not yet accepted.
        self.backlog = deque()
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
            self.backlog = self.early_changes = None
            logger.error("Could not open a page socket", exc_info=error)
            await self.leave_groups()
            await self.refuse(CLOSE_UNAVAILABLE, UNAVAILABLE, explain=True)
            return
        except BaseException:
            self.backlog = self.early_changes = None
            await self.leave_groups()
            raise
        self.handlers = {name: a for part in opening.parts for name, a in part.actions().items()}
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
        waiting, self.backlog = self.backlog, None
        for html in waiting:
            self.deliver(html)
        await asyncio.gather(*(self.guarded(part.enter()) for part in opening.parts))
        await self.guarded(self.catch_up(opening.parts))

    def load(self) -> "Opening":
        """In the database thread: who this is, then every part's reads and groups."""
        found = scope_login(self.scope)
        user = found.user
        if not user.is_authenticated:
            return Opening(user=user)
        params = socket_params(self.scope["query_string"])
        if params_problem(params):
            # Refused after the limits on attempts, as every other refusal is.
            return Opening(user=user, refusal=Refused(CLOSE_BAD_REQUEST, BAD_REQUEST))
        login = SocketLogin(
            user_id=user.pk,
            auth_hash=user.get_session_auth_hash(),
            session_key=found.session_key,
            expires_at=found.expires_at,
        )
        connection = Connection(
            user=user,
            params=params,
            reply=self.send_html,
            leave=self.leave_group,
            socket_id=uuid.uuid4().hex,
            on_close=self.cleanups.append,
        )
        parts = [make_part(connection) for make_part in self.parts]
        groups: list[str] = []
        try:
            for part in parts:
                groups.extend(part.load())
        except Refused as refusal:
            return Opening(user=user, refusal=refusal)
        # Every socket hears when its session ends (realtime.revocation).
        groups.append(sockets_group(user.pk))
        return Opening(user=user, parts=parts, groups=groups, login=login)

    async def catch_up(self, parts: Sequence[Part]) -> None:
        # Each part's catch-up is its own frame, in the parts' order, as it would be pushed.
        for outcome in await database_sync_to_async(catch_up_all)(parts):
            if isinstance(outcome, Exception):
                await self.failed(outcome)
                continue
            for group in outcome.leave:
                await self.leave_group(group)
            if outcome.html:
                await self.send_html(outcome.html)

    async def refuse(self, code: int, reason: str, *, explain: bool = False) -> None:
        # Accepted first so the page learns why: a refused handshake looks like a network
        # error (1006) to the browser, and htmx would retry it forever. With `explain`, the
        # reason is also shown in the page's error line.
        self.release()
        metrics.REFUSALS.labels(code=str(code)).inc()
        await self.accept()
        if explain:
            await self.send(text_data=socket_error_html(reason))
        await self.close(code=code, reason=reason)

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
        self.release()
        open_pages.discard(self)
        self.gone.set()
        cleanups, self.cleanups = self.cleanups, []
        try:
            await self.leave_groups()
        finally:
            outcomes = await asyncio.gather(*(c() for c in cleanups), return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    logger.warning("A part's cleanup failed", exc_info=outcome)
            self.summarise_failures()

    def summarise_failures(self) -> None:
        unlogged = self.failures.unlogged()
        if unlogged:
            logger.warning(
                "A page socket of user %s closed after %s more failed frames (%s)",
                self.login.user_id if self.login else None,
                sum(unlogged.values()),
                ", ".join(f"{kind}: {count}" for kind, count in unlogged.items()),
            )

    async def leave_groups(self) -> None:
        hub = get_hub()
        groups, self.joined = self.joined, []
        await asyncio.gather(*(hub.leave(group, self) for group in groups))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing or self.login is None:
            return  # closing (e.g. signed out), or refused: nothing more is done for it
        await self.guarded(self.handle(text_data))

    async def handle(self, text_data: str | None) -> None:
        """One frame: the session still valid, within the person's budget, well formed, then
        the action it names."""
        assert self.login is not None
        if self.login.expired(wall_clock()):
            self.signed_out()
            return
        now = time.monotonic()
        if not within_budget(self.login.user_id, FRAME_COST, now=now):
            # Told once per run of refused frames: a flood is not answered frame by frame.
            told, self.over_budget = self.over_budget, True
            if self.failures.note("over budget"):
                logger.info("A page socket's frame was refused (over budget): %s", TOO_FAST)
            if not told:
                await self.send_html(socket_error_html(TOO_FAST))
            return
        self.over_budget = False
        frame = decode_frame(text_data)
        if isinstance(frame, str):
            await self.refused_frame("invalid", frame)
            return
        handler = self.handlers.get(frame["action"])
        if handler is None:
            await self.refused_frame("unknown action", f"Unknown action “{frame['action']}”.")
            return
        cost = action_cost(handler)
        if cost is not None and not within_budget(self.login.user_id, cost, now=now):
            await self.refused_frame("over budget", TOO_FAST)
            return
        await handler(frame)

    async def refused_frame(self, kind: str, reason: str) -> None:
        """A frame not acted upon: the page is told; the log hears of the first of each kind,
        and of how many followed when the socket closes."""
        if self.failures.note(kind):
            logger.info("A page socket's frame was refused (%s): %s", kind, reason)
        await self.send_html(socket_error_html(reason))

    async def guarded(self, work: Awaitable[None]) -> None:
        """Run a part's handler; if it fails, the page is told and the socket stays open."""
        try:
            await work
        except Exception as error:
            await self.failed(error)

    async def failed(self, error: Exception) -> None:
        outage = isinstance(error, DATABASE_DOWN)
        first = self.failures.note("database down" if outage else type(error).__name__)
        if outage:
            if first:
                logger.warning("A socket action failed on the database", exc_info=error)
            await self.send_html(socket_error_html(DATABASE_UNAVAILABLE))
        else:
            if first:
                logger.error("A socket action failed", exc_info=error)
            await self.send_html(socket_error_html(FAILED))

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
        if self.failures.note("flooded"):
            logger.info("A page socket sent frames faster than handled; closing it")
        self.close_soon(CLOSE_TOO_MANY_FRAMES)

    def deliver(self, html: str, frame: bytes | None = None) -> None:
        if self.closing:
            return
        if self.backlog is not None:
            if len(self.backlog) >= self.backlog_limit:
                self.overflowed()
                return
            self.backlog.append(html)
            return
        # On Daphne: the hub's frame, made once for all the members of this process, written
        # as it is. No task, no ASGI message, no framing per socket.
        if self.write_frame is not None and self.write_frame(frame or frames.text_frame(html)):
            return
        self.start_send(html)

    def start_send(self, html: str) -> None:
        # Eager: on Daphne the send completes at once, without scheduling anything.
        sending = eager_task(self.send(text_data=html))
        if sending.done():
            self.settle(sending)
            return
        self.backlog = deque()
        sending.add_done_callback(self.sent)

    def sent(self, sending: "asyncio.Task[None]") -> None:
        self.settle(sending)
        backlog, self.backlog = self.backlog, None
        if backlog and not self.closing:
            first = backlog.popleft()
            self.start_send(first)
            if self.backlog is None:
                for html in backlog:
                    self.deliver(html)
            else:
                self.backlog.extend(backlog)

    def settle(self, sending: "asyncio.Task[None]") -> None:
        if not sending.cancelled() and sending.exception() is not None:
            logger.debug("Send to a socket failed", exc_info=sending.exception())

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
        leaving = asyncio.get_running_loop().create_task(get_hub().leave(group, self))
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
        self.backlog = None
        closing = eager_task(self.close(code=code))
        if closing.done():
            self.settle(closing)
        else:
            closing.add_done_callback(self.settle)


@dataclass
class Opening:
    """What a socket read before opening: who it is, and its parts' groups or a refusal."""

    user: User | AnonymousUser
    parts: list[Part] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    refusal: Refused | None = None
    login: SocketLogin | None = None


def catch_up_all(parts: Sequence[Part]) -> list[CatchUp | Exception]:
    """Every part's catch-up, in the database thread; one part failing spoils no other's."""
    outcomes: list[CatchUp | Exception] = []
    for part in parts:
        try:
            outcomes.append(part.catch_up())
        except Exception as error:
            outcomes.append(error)
    return outcomes


async def close_all() -> None:
    """The server is stopping: every page reconnects elsewhere, or here once it is back."""
    pages = list(open_pages)
    logger.info("Server stopping: closing %d page sockets with 1012", len(pages))
    for page in pages:
        page.interrupted()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(SHUTDOWN_SECONDS):
            await asyncio.gather(*(page.gone.wait() for page in pages))
