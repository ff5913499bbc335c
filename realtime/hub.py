"""Group delivery once per process.

Channels' usual shape gives every socket its own channel on the layer: a group message is
copied into each member's channel, and each socket runs its own receive loop and dispatch.
With a 1000-member room that is 1000 layer messages, 1000 receives and 1000 dispatches per
chat message, and the layer's per-channel capacity silently drops the overflow.

The hub gives the *process* one channel instead. The first local member of a group adds that
channel to the group; later members only join a set in memory. A group message then arrives
once per process, is framed once (realtime.frames), and the same bytes are written to each
local member's socket. The last member to leave discards the channel from the group.

A person's groups are carried together (`carrier`): with one layer group per person, a fill of
ten thousand people's sockets made thirty thousand group adds, a quarter of the event loop's
time. Their messages name the group they are for; a process drops those for people it does
not hold.

- Joins and leaves of one group are serialised, so a join racing the last leave never ends up
  unsubscribed.
- Memberships are re-added periodically, before the layer's group expiry forgets them.
- If receiving from the layer fails (Redis restarted), the hub re-adds every group and tells
  each member that it may have missed messages; sockets then close with 1012 and the page
  reconnects and resumes from its cursor.
"""

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings

from realtime import metrics
from realtime.frames import text_frame
from realtime.loops import per_loop

logger = logging.getLogger(__name__)

PUSH = "html.push"
# Tells the members of a group (one person's tabs) to leave another group, e.g. a private room
# they were removed from, and shows them `html` if they were in it.
LEAVE = "group.leave"
# Tells the members of a group (one person's tabs) to close with a code: the account is gone.
CLOSE = "sockets.close"
RETRY_FIRST_DELAY = 0.5
RETRY_MAX_DELAY = 10.0


def push_event(group: str, html: str) -> dict[str, Any]:
    return {"type": PUSH, "group": group, "html": html, "sent_at": time.time()}


def leave_event(group: str, *, leave: str, html: str) -> dict[str, Any]:
    return {"type": LEAVE, "group": group, "leave": leave, "html": html}


def close_event(group: str, *, code: int) -> dict[str, Any]:
    return {"type": CLOSE, "group": group, "code": code}


class Member(Protocol):
    def deliver(self, html: str, frame: bytes | None = None) -> None:
        """Queue `html` for this socket without waiting; `frame` is it as a ready-made frame."""
        ...

    def interrupted(self) -> None:
        """Group messages may have been lost: the page should resume from its cursor."""
        ...

    def removed(self, group: str, html: str) -> None:
        """Stop receiving `group`'s messages; if it was receiving them, queue `html`."""
        ...

    def close_soon(self, code: int) -> None:
        """Close this socket with `code`, without waiting."""
        ...


def carrier(group: str) -> str:
    """The channel-layer group that carries `group`'s messages. A person's groups (their
    tabs, their inbox, their read cursors: `user.<id>...`) share one of HUB_PERSON_CARRIERS
    carriers by user id, so that ten thousand people cost a process at most that many
    subscriptions instead of three each, and a new person's socket usually none at all. Every
    other group is its own carrier."""
    match = PERSONAL.match(group)
    if match is None:
        return group
    return f"users.{int(match[1]) % settings.HUB_PERSON_CARRIERS}"


PERSONAL = re.compile(r"user\.(\d+)(?:\.|$)")


@dataclass(eq=False)
class CarrierState:
    # The groups with local members that this carrier brings in.
    groups: set[str] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    subscribed: bool = False
    # Coroutines inside join() or leave() for this carrier; the state is forgotten only at 0.
    busy: int = 0


class Hub:
    def __init__(
        self, layer: BaseChannelLayer, *, refresh_every: float, concurrency: int = 100
    ) -> None:
        self.layer = layer
        self.refresh_every = refresh_every
        # Subscription changes waiting on the layer at once. Ten thousand sockets closing
        # together must queue here, not exhaust the Redis connection pool.
        self.layer_calls = asyncio.Semaphore(concurrency)
        self.channel = ""
        self.members: dict[str, set[Member]] = {}  # group: its local members
        self.carriers: dict[str, CarrierState] = {}
        self.reader: asyncio.Task[None] | None = None
        self.refresher: asyncio.Task[None] | None = None

    async def join(self, group: str, member: Member) -> None:
        name = carrier(group)
        state = self.carriers.setdefault(name, CarrierState())
        state.busy += 1
        try:
            async with state.lock:
                if not state.subscribed:
                    channel = await self._channel()
                    async with self.layer_calls:
                        await self.layer.group_add(name, channel)
                    state.subscribed = True
                    metrics.GROUPS.inc()
                self.members.setdefault(group, set()).add(member)
                state.groups.add(group)
        finally:
            state.busy -= 1
            self._forget_if_unused(name, state)
        metrics.MEMBERSHIPS.inc()
        self._start()

    async def leave(self, group: str, member: Member) -> None:
        members = self.members.get(group)
        if members is None or member not in members:
            return
        members.discard(member)
        metrics.MEMBERSHIPS.dec()
        name = carrier(group)
        state = self.carriers[name]
        if not members:
            del self.members[group]
            state.groups.discard(group)
        state.busy += 1
        try:
            async with state.lock:
                if state.subscribed and not state.groups:
                    state.subscribed = False
                    metrics.GROUPS.dec()
                    try:
                        async with self.layer_calls:
                            await self.layer.group_discard(name, self.channel)
                    except Exception:
                        # The layer's group expiry removes it eventually; until then the
                        # hub drops what arrives for a group without members.
                        logger.warning("Could not leave group %s", name, exc_info=True)
        finally:
            state.busy -= 1
            self._forget_if_unused(name, state)
        if not self.carriers:
            self._stop()

    def deliver(self, message: dict[str, Any]) -> None:
        if message.get("type") == LEAVE:
            self.deliver_leave(message)
            return
        if message.get("type") == CLOSE:
            for member in tuple(self.members.get(message["group"], ())):
                member.close_soon(message["code"])
            return
        if message.get("type") != PUSH:
            logger.warning("Hub ignored a message of type %r", message.get("type"))
            return
        # A carrier shared by several groups brings in the messages of groups without local
        # members too: those are dropped here.
        members = self.members.get(message["group"])
        if not members:
            return
        html = message["html"]
        frame = text_frame(html)
        for member in tuple(members):
            member.deliver(html, frame)
        metrics.DELIVERIES.inc(len(members))
        sent_at = message.get("sent_at")
        if isinstance(sent_at, float):
            metrics.PUSH_LATENCY.observe(max(0.0, time.time() - sent_at))

    def deliver_leave(self, message: dict[str, Any]) -> None:
        for member in tuple(self.members.get(message["group"], ())):
            member.removed(message["leave"], message["html"])

    def group_size(self, group: str) -> int:
        return len(self.members.get(group, ()))

    async def _channel(self) -> str:
        if not self.channel:
            self.channel = await self.layer.new_channel("hub")
        return self.channel

    def _forget_if_unused(self, name: str, state: CarrierState) -> None:
        unused = not state.groups and not state.busy and not state.subscribed
        if unused and self.carriers.get(name) is state:
            del self.carriers[name]

    def _start(self) -> None:
        if self.reader is None or self.reader.done():
            self.reader = asyncio.create_task(self._read(), name="hub-reader")
        if self.refresher is None or self.refresher.done():
            self.refresher = asyncio.create_task(self._refresh(), name="hub-refresher")

    def _stop(self) -> None:
        for task in (self.reader, self.refresher):
            if task is not None:
                task.cancel()
        self.reader = self.refresher = None

    async def _read(self) -> None:
        delay = RETRY_FIRST_DELAY
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Receiving from the channel layer failed; retrying")
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_DELAY)
                await self._recover()
                continue
            delay = RETRY_FIRST_DELAY
            self.deliver(message)

    async def _recover(self) -> None:
        """After a layer failure: subscribe again, then let every member resume."""
        try:
            await self._subscribe_all()
        except Exception:
            logger.warning("Channel layer still unavailable", exc_info=True)
            return
        members = {member for group in self.members.values() for member in group}
        logger.warning("Channel layer back; asking %d sockets to resume", len(members))
        for member in members:
            member.interrupted()

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_every)
            try:
                await self._subscribe_all()
            except Exception:
                logger.warning("Refreshing group memberships failed", exc_info=True)

    async def _subscribe_all(self) -> None:
        for name in [name for name, state in self.carriers.items() if state.subscribed]:
            async with self.layer_calls:
                await self.layer.group_add(name, self.channel)


def make_hub() -> Hub:
    layer = get_channel_layer()
    expiry = getattr(layer, "group_expiry", 86400)
    return Hub(
        layer,
        refresh_every=getattr(settings, "HUB_REFRESH_SECONDS", expiry / 4),
        concurrency=settings.HUB_LAYER_CONCURRENCY,
    )


# The hub of the running event loop (one per server process).
get_hub = per_loop(make_hub)
