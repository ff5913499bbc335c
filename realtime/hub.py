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
- Each message, and each member's delivery of it, is handled on its own: one that fails (a
  message of an unknown shape after a deploy, a member that raises) is logged, counted in
  `relay_hub_failures`, and the rest goes on. If the reader ever ends, it is restarted and
  every member asked to resume.
- If receiving from the layer fails (Redis restarted), the hub re-adds every group, retrying
  until all are back, and then tells each member that it may have missed messages; sockets
  then close with 1012 and the page reconnects and resumes from its cursor.
- Pushes are numbered per sender and carrier (realtime.sequence): a number that never
  arrives (dropped at capacity, lost in a failover) makes the members of that carrier resume
  before the push that revealed it is shown to them.
- A probe sent to the process's own probe groups (one on each Redis host) every
  HUB_PROBE_SECONDS must come back: if Redis lost its keys while connections stayed up
  (FLUSHALL, a failover to an empty replica, one shard of several restarted), the hub's
  subscriptions are gone without an error, and only the missing probe tells.
"""

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings

from realtime import metrics
from realtime.frames import text_frame
from realtime.loops import per_loop
from realtime.sequence import Gap, Stamper, Tracker

logger = logging.getLogger(__name__)

PUSH = "html.push"
# Tells the members of a group (one person's tabs) to leave another group, e.g. a private room
# they were removed from, and shows them `html` if they were in it.
LEAVE = "group.leave"
# Tells the members of a group (one person's sockets) that a session of theirs ended or that
# their account changed; each socket judges whether that ends it (realtime.revocation).
SESSION = "session.changed"
# The hub's message to itself, through its own probe group (see Hub._probe).
PROBE = "hub.probe"
RETRY_FIRST_DELAY = 0.5
RETRY_MAX_DELAY = 10.0
# A probe that is late is lost once the reader has had nothing to read for this long, or
# after PROBE_GIVE_UP whatever the reader does (the layer's message expiry is 60 s).
PROBE_IDLE = 1.0
PROBE_GIVE_UP = 60.0
# One log line per kind of failure and group at most this often; the rest are counted.
LOG_EVERY = 60.0

stamper = Stamper()


def push_event(group: str, html: str) -> dict[str, Any]:
    return {
        "type": PUSH,
        "group": group,
        "html": html,
        "sent_at": time.time(),
        **stamper.stamp(carrier(group)),
    }


def leave_event(group: str, *, leave: str, html: str) -> dict[str, Any]:
    return {
        "type": LEAVE,
        "group": group,
        "leave": leave,
        "html": html,
        **stamper.stamp(carrier(group)),
    }


def session_event(group: str, change: dict[str, Any]) -> dict[str, Any]:
    # Numbered like pushes: a lost one makes the person's sockets resume, and reconnecting
    # checks the session afresh.
    return {"type": SESSION, "group": group, "change": change, **stamper.stamp(carrier(group))}


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

    def session_changed(self, change: dict[str, Any]) -> None:
        """A session or the account of this member's person changed: close if it ended."""
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


class Malformed(Exception):
    pass


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
        self,
        layer: BaseChannelLayer,
        *,
        refresh_every: float,
        concurrency: int = 100,
        probe_every: float | None = None,
        probe_deadline: float = 3.0,
    ) -> None:
        self.layer = layer
        self.refresh_every = refresh_every
        self.probe_every = probe_every
        self.probe_deadline = probe_deadline
        # Subscription changes waiting on the layer at once. Ten thousand sockets closing
        # together must queue here, not exhaust the Redis connection pool.
        self.layer_calls = asyncio.Semaphore(concurrency)
        self.channel = ""
        self.members: dict[str, set[Member]] = {}  # group: its local members
        self.carriers: dict[str, CarrierState] = {}
        self.tracker = Tracker()
        self.reader: asyncio.Task[None] | None = None
        self.refresher: asyncio.Task[None] | None = None
        self.prober: asyncio.Task[None] | None = None
        self.recovery: asyncio.Task[None] | None = None
        # One probe group per Redis shard (realtime.hub.probe_groups), named anew each time
        # probing starts; a probe is back once it came back through every one of them.
        self.probe_groups: list[str] = []
        self.probe_sent = 0
        self.probes_back: set[str] = set()
        self.probe_back = asyncio.Event()
        self.received = 0  # messages read from the layer, for the probe
        self.last_logged: dict[tuple[str, str, str], float] = {}

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
                    self.tracker.forget([name])
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
            probe_groups = self.probe_groups if self.prober is not None else []
            self._stop()
            for probe_group in probe_groups:
                await self._discard_probe_group(probe_group)

    def deliver(self, message: dict[str, Any]) -> None:
        """Handle one message from the layer. Whatever it holds, it cannot stop the next."""
        try:
            kind = message.get("type")
            if kind == PUSH:
                self.deliver_push(message)
            elif kind == LEAVE:
                self.deliver_leave(message)
            elif kind == SESSION:
                self.deliver_session(message)
            elif kind == PROBE:
                if message.get("n") == self.probe_sent:
                    self.probes_back.add(str(message.get("group")))
                    if self.probes_back.issuperset(self.probe_groups):
                        self.probe_back.set()
            else:
                raise Malformed(f"unknown type {kind!r}")
        except Exception as error:
            self._failed("message", message, error)

    def deliver_push(self, message: dict[str, Any]) -> None:
        group = message["group"]
        html = message["html"]
        if not isinstance(group, str) or not isinstance(html, str):
            raise Malformed("group and html must be strings")
        if self._skipped(group, message):
            return
        # A carrier shared by several groups brings in the messages of groups without local
        # members too: those are dropped here.
        members = self.members.get(group)
        if not members:
            return
        frame = text_frame(html)
        for member in tuple(members):
            try:
                member.deliver(html, frame)
            except Exception as error:
                self._member_failed(member, message, error)
        metrics.DELIVERIES.inc(len(members))
        sent_at = message.get("sent_at")
        if isinstance(sent_at, float):
            metrics.PUSH_LATENCY.observe(max(0.0, time.time() - sent_at))

    def deliver_leave(self, message: dict[str, Any]) -> None:
        group, leave, html = message["group"], message["leave"], message["html"]
        if not all(isinstance(value, str) for value in (group, leave, html)):
            raise Malformed("group, leave and html must be strings")
        if self._skipped(group, message):
            return
        for member in tuple(self.members.get(group, ())):
            try:
                member.removed(leave, html)
            except Exception as error:
                self._member_failed(member, message, error)

    def deliver_session(self, message: dict[str, Any]) -> None:
        group, change = message["group"], message["change"]
        if not isinstance(group, str) or not isinstance(change, dict):
            raise Malformed("group must be a string and change a mapping")
        if self._skipped(group, message):
            return
        for member in tuple(self.members.get(group, ())):
            try:
                member.session_changed(change)
            except Exception as error:
                self._member_failed(member, message, error)

    def group_size(self, group: str) -> int:
        return len(self.members.get(group, ()))

    def _skipped(self, group: str, message: dict[str, Any]) -> bool:
        """Whether pushes before this one were lost; if so the carrier's members were asked
        to resume, and this push is not shown to them: a page's cursor is the newest message
        it shows, and it must not pass the lost ones."""
        source, seq = message.get("src"), message.get("seq")
        if not isinstance(source, str) or type(seq) is not int:
            return False  # a sender that does not number its pushes (yet, in a rolling deploy)
        name = carrier(group)
        state = self.carriers.get(name)
        if state is None or not state.subscribed:
            return False
        gap = self.tracker.seen(name, source, seq)
        if gap is None:
            return False
        self._gap_found(gap)
        return True

    def _gap_found(self, gap: Gap) -> None:
        metrics.HUB_GAPS.inc()
        state = self.carriers.get(gap.stream)
        groups = tuple(state.groups) if state is not None else ()
        members = {member for group in groups for member in self.members.get(group, ())}
        self._log(
            "gap",
            gap.stream,
            "",
            "Pushes %d-%d on %s never arrived; asking %d sockets to resume",
            gap.missing.start,
            gap.missing.stop - 1,
            gap.stream,
            len(members),
        )
        self._interrupt(members)

    def _member_failed(self, member: Member, message: dict[str, Any], error: Exception) -> None:
        # It missed this message: it resumes from its cursor (if even that fails, it is
        # counted again and the others still go on).
        self._failed("member", message, error)
        try:
            member.interrupted()
        except Exception as again:
            self._failed("member", message, again)

    def _failed(self, kind: str, message: object, error: BaseException) -> None:
        metrics.HUB_FAILURES.labels(kind=kind).inc()
        group = message.get("group") if isinstance(message, dict) else None
        of_type = message.get("type") if isinstance(message, dict) else type(message).__name__
        self._log(
            kind,
            str(group)[:100],
            str(of_type)[:100],
            "Hub could not handle a message (%s) of type %r for group %r: %r",
            kind,
            of_type,
            group,
            error,
            exc_info=error if kind == "member" else None,
        )

    def _log(
        self,
        kind: str,
        group: str,
        of_type: str,
        text: str,
        *args: object,
        exc_info: BaseException | None = None,
    ) -> None:
        """A warning, at most once per LOG_EVERY for the same kind, group and type; the
        counters in /metrics count every occurrence."""
        key = (kind, group, of_type)
        now = time.monotonic()
        if now - self.last_logged.get(key, -LOG_EVERY) < LOG_EVERY:
            return
        if len(self.last_logged) >= 1000:
            self.last_logged.clear()
        self.last_logged[key] = now
        logger.warning(text, *args, exc_info=exc_info)

    def _interrupt(self, members: Iterable[Member]) -> None:
        for member in members:
            try:
                member.interrupted()
            except Exception as error:
                self._failed("member", {"type": "interrupted"}, error)

    def _all_members(self) -> set[Member]:
        return {member for group in self.members.values() for member in group}

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
            self._start_reader(recovering=False)
        if self.refresher is None or self.refresher.done():
            self.refresher = asyncio.create_task(self._refresh(), name="hub-refresher")
        if self.probe_every and (self.prober is None or self.prober.done()):
            # A new name each time: the discard of the previous one may still be on its way.
            self.probe_groups = probe_groups(self.layer)
            self.prober = asyncio.create_task(self._probe(), name="hub-prober")

    def _start_reader(self, *, recovering: bool) -> None:
        self.reader = asyncio.create_task(self._read(recovering=recovering), name="hub-reader")
        self.reader.add_done_callback(self._reader_ended)

    def _stop(self) -> None:
        tasks = (self.reader, self.refresher, self.prober, self.recovery)
        self.reader = self.refresher = self.prober = self.recovery = None
        for task in tasks:
            if task is not None:
                task.cancel()

    def _reader_ended(self, task: "asyncio.Task[None]") -> None:
        """The supervisor: a reader that ends while the hub has groups is started again, and
        as messages may have been lost meanwhile, every member resumes."""
        if task is not self.reader or task.cancelled():
            return  # stopped on purpose (the hub, or the event loop, is stopping)
        metrics.HUB_FAILURES.labels(kind="reader").inc()
        logger.error("The hub's reader ended; restarting it", exc_info=task.exception())
        self._start_reader(recovering=True)

    async def _read(self, *, recovering: bool) -> None:
        if recovering:
            await self._recover()
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
            self.received += 1
            self.deliver(message)

    async def _recover(self) -> None:
        """After a layer failure: subscribe again until every subscription is back, then
        let every member resume. One recovery at a time; callers share it."""
        if self.recovery is None or self.recovery.done():
            self.recovery = asyncio.create_task(self._recovering(), name="hub-recovery")
        await asyncio.shield(self.recovery)

    async def _recovering(self) -> None:
        await self._subscribe_until_done("Channel layer still unavailable")
        # Whatever was numbered before is moot: every member resumes from its cursor.
        self.tracker.forget()
        members = self._all_members()
        logger.warning("Channel layer back; asking %d sockets to resume", len(members))
        self._interrupt(members)

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_every)
            await self._subscribe_until_done("Refreshing group memberships failed")

    async def _subscribe_until_done(self, complaint: str) -> None:
        delay = RETRY_FIRST_DELAY
        while failed := await self._subscribe_all():
            logger.warning(
                "%s (%d groups: %r); retrying in %s s", complaint, len(failed), failed[0], delay
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_DELAY)

    async def _subscribe_all(self) -> list[Exception]:
        """Add this process's channel to every group it holds again; what failed."""
        names = [name for name, state in self.carriers.items() if state.subscribed]
        adds = [self._resubscribe(name) for name in names]
        if self.prober is not None:
            adds.extend(self._add(name) for name in self.probe_groups)
        outcomes = await asyncio.gather(*adds, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, asyncio.CancelledError):
                raise outcome
        return [outcome for outcome in outcomes if isinstance(outcome, Exception)]

    async def _resubscribe(self, name: str) -> None:
        state = self.carriers.get(name)
        if state is None:
            return
        async with state.lock:
            # Under the lock: a carrier left meanwhile is not added back.
            if state.subscribed and self.carriers.get(name) is state:
                await self._add(name)

    async def _add(self, name: str) -> None:
        async with self.layer_calls:
            await self.layer.group_add(name, await self._channel())

    async def _probe(self) -> None:
        """Every probe_every seconds, a message to this hub's own probe group. If it does not
        come back, the layer has lost this process's subscriptions without failing a call
        (its keys flushed, a failover to an empty replica): subscribe again, and resume."""
        delay = RETRY_FIRST_DELAY
        while True:
            try:
                for name in self.probe_groups:
                    await self._add(name)
                break
            except Exception:
                logger.warning("Could not add the hub's probe group; retrying", exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_DELAY)
        while True:
            await asyncio.sleep(self.probe_every or 0)
            if self.recovery is not None and not self.recovery.done():
                continue
            self.probe_sent += 1
            self.probes_back.clear()
            self.probe_back.clear()
            try:
                for name in self.probe_groups:
                    probe = {"type": PROBE, "n": self.probe_sent, "group": name}
                    await self.layer.group_send(name, probe)
            except Exception:
                # The layer fails outright: the reader sees that too, and recovers.
                logger.warning("Could not send the hub's probe", exc_info=True)
                continue
            if not await self._probe_returned():
                metrics.HUB_PROBES_LOST.inc()
                logger.warning("The hub's probe did not come back; subscribing again")
                await self._recover()

    async def _discard_probe_group(self, name: str) -> None:
        try:
            async with self.layer_calls:
                await self.layer.group_discard(name, self.channel)
        except Exception:
            logger.warning("Could not leave group %s", name, exc_info=True)

    async def _probe_returned(self) -> bool:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.probe_deadline):
                await self.probe_back.wait()
                return True
        except TimeoutError:
            pass
        # Late. A reader working through a backlog may not have reached it yet: lost only
        # once the reader has had nothing to read for PROBE_IDLE.
        while not self.probe_back.is_set():
            read = self.received
            try:
                async with asyncio.timeout(PROBE_IDLE):
                    await self.probe_back.wait()
                    return True
            except TimeoutError:
                if self.received == read or time.monotonic() - started > PROBE_GIVE_UP:
                    return False
        return True


def probe_groups(layer: BaseChannelLayer) -> list[str]:
    """Fresh probe group names, one stored on each of the layer's Redis hosts: a host that
    restarts empty takes the subscriptions it held with it, and only a probe through that
    host notices. channels-redis places a group by `consistent_hash` over `ring_size` hosts;
    another layer has one place."""
    ring_size = getattr(layer, "ring_size", 1)
    place = getattr(layer, "consistent_hash", None)
    if ring_size <= 1 or place is None:
        return [f"hub-probe.{uuid.uuid4().hex}"]
    names: dict[int, str] = {}
    # Random names land on each of n hosts within about n·ln(n) tries; bounded all the same.
    for _ in range(100 * ring_size):
        name = f"hub-probe.{uuid.uuid4().hex}"
        names.setdefault(place(name), name)
        if len(names) == ring_size:
            break
    return [names[index] for index in sorted(names)]


def make_hub() -> Hub:
    layer = get_channel_layer()
    expiry = getattr(layer, "group_expiry", 86400)
    return Hub(
        layer,
        refresh_every=getattr(settings, "HUB_REFRESH_SECONDS", expiry / 4),
        concurrency=settings.HUB_LAYER_CONCURRENCY,
        probe_every=settings.HUB_PROBE_SECONDS or None,
        probe_deadline=settings.HUB_PROBE_DEADLINE,
    )


# The hub of the running event loop (one per server process).
get_hub = per_loop(make_hub)
