"""The Hub: this process's one channel on the layer, and its members in each group.

Joins and leaves of one carrier are serialised, so that a join racing the last leave never
ends up unsubscribed. Each message, and each member's delivery of it, is handled on its own
(realtime.hub.failures). The hub supervises its reader: one that ends is restarted and every
member asked to resume; after a layer failure every subscription is added again, retrying
until all are back, before the members resume; subscriptions are refreshed periodically,
before the layer's group expiry forgets them.
"""

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings

from realtime import metrics
from realtime.frames import text_frame
from realtime.hub.failures import FailureLog
from realtime.hub.members import Members, add_member, member_count, members_of, remove_member
from realtime.hub.messages import (
    BATCH,
    LEAVE,
    PROBE,
    PUSH,
    SESSION,
    Malformed,
    Member,
    carrier,
    runs_of_pushes,
)
from realtime.hub.probes import RETRY_FIRST_DELAY, RETRY_MAX_DELAY, Prober
from realtime.loops import per_loop
from realtime.sequence import Gap, Tracker

logger = logging.getLogger(__name__)


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
        # Subscription changes waiting on the layer at once. Ten thousand sockets closing
        # together must queue here, not exhaust the Redis connection pool.
        self.layer_calls = asyncio.Semaphore(concurrency)
        self.channel = ""
        self.members: Members = {}  # group: its local members (realtime.hub.members)
        self.carriers: dict[str, CarrierState] = {}
        self.tracker = Tracker()
        self.failures = FailureLog()
        self.reader: asyncio.Task[None] | None = None
        self.refresher: asyncio.Task[None] | None = None
        self.recovery: asyncio.Task[None] | None = None
        self.received = 0  # messages read from the layer, for the probe
        self.prober = Prober(
            layer,
            every=probe_every,
            deadline=probe_deadline,
            subscribe=self._add,
            recovering=lambda: self.recovery is not None and not self.recovery.done(),
            recover=self._recover,
            reads=lambda: self.received,
        )

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
                add_member(self.members, group, member)
                state.groups.add(group)
        finally:
            state.busy -= 1
            self._forget_if_unused(name, state)
        metrics.MEMBERSHIPS.inc()
        self._start()

    async def leave(self, group: str, member: Member) -> None:
        if not remove_member(self.members, group, member):
            return
        metrics.MEMBERSHIPS.dec()
        name = carrier(group)
        state = self.carriers[name]
        if group not in self.members:
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
            probe_groups = self.prober.groups if self.prober.task is not None else []
            self._stop()
            for probe_group in probe_groups:
                await self._discard_probe_group(probe_group)

    def deliver(self, message: dict[str, Any]) -> None:
        """Handle one message from the layer. Whatever it holds, it cannot stop the next."""
        try:
            kind = message.get("type")
            if kind == PUSH:
                self.deliver_pushes([message])
            elif kind == LEAVE:
                self.deliver_leave(message)
            elif kind == SESSION:
                self.deliver_session(message)
            elif kind == PROBE:
                self.prober.came_back(message)
            elif kind == BATCH:
                self.deliver_batch(message)
            else:
                raise Malformed(f"unknown type {kind!r}")
        except Exception as error:
            self.failures.failed("message", message, error)

    def deliver_batch(self, message: dict[str, Any]) -> None:
        """A batch's messages in order, as if each had come alone (a bad one spoils no other),
        but pushes for one group in a row reach each member together, in one write."""
        messages = message["messages"]
        if not isinstance(messages, list):
            raise Malformed("messages must be a list")
        for run in runs_of_pushes(messages):
            if len(run) > 1:
                self.deliver_pushes(run)
            elif isinstance(run[0], dict) and run[0].get("type") == BATCH:
                self.failures.failed("message", run[0], Malformed("a batch inside a batch"))
            else:
                self.deliver(run[0])

    def deliver_pushes(self, messages: list[dict[str, Any]]) -> None:
        """Pushes for one group, in order: each member gets those to show in one call."""
        shown = [message for message in messages if self._showable(message)]
        # A carrier shared by several groups brings in the messages of groups without local
        # members too: those are dropped here.
        members = members_of(self.members, shown[0]["group"]) if shown else ()
        if not members:
            return
        htmls = [message["html"] for message in shown]
        frames = [text_frame(html) for html in htmls]
        for member in members:
            try:
                member.deliver_many(htmls, frames)
            except Exception as error:
                self.failures.member_failed(member, shown[0], error)
        metrics.DELIVERIES.inc(len(members) * len(shown))
        now = time.time()
        for message in shown:
            if isinstance(sent_at := message.get("sent_at"), float):
                metrics.PUSH_LATENCY.observe(max(0.0, now - sent_at))

    def _showable(self, message: dict[str, Any]) -> bool:
        """Whether a push is to be shown: well formed (else counted) and not after a gap."""
        try:
            if not isinstance(message["group"], str) or not isinstance(message["html"], str):
                raise Malformed("group and html must be strings")
        except Exception as error:
            self.failures.failed("message", message, error)
            return False
        return not self._skipped(message["group"], message)

    def deliver_leave(self, message: dict[str, Any]) -> None:
        group, leave, html = message["group"], message["leave"], message["html"]
        if not all(isinstance(value, str) for value in (group, leave, html)):
            raise Malformed("group, leave and html must be strings")
        if self._skipped(group, message):
            return
        for member in members_of(self.members, group):
            try:
                member.removed(leave, html)
            except Exception as error:
                self.failures.member_failed(member, message, error)

    def deliver_session(self, message: dict[str, Any]) -> None:
        group, change = message["group"], message["change"]
        if not isinstance(group, str) or not isinstance(change, dict):
            raise Malformed("group must be a string and change a mapping")
        if self._skipped(group, message):
            return
        for member in members_of(self.members, group):
            try:
                member.session_changed(change)
            except Exception as error:
                self.failures.member_failed(member, message, error)

    def group_size(self, group: str) -> int:
        return member_count(self.members, group)

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
        members = {member for group in groups for member in members_of(self.members, group)}
        self.failures.log(
            "gap",
            gap.stream,
            "",
            "Pushes %d-%d on %s never arrived; asking %d sockets to resume",
            gap.missing.start,
            gap.missing.stop - 1,
            gap.stream,
            len(members),
        )
        self.failures.interrupt(members)

    def _all_members(self) -> set[Member]:
        return {member for group in self.members for member in members_of(self.members, group)}

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
        self.prober.start()

    def _start_reader(self, *, recovering: bool) -> None:
        self.reader = asyncio.create_task(self._read(recovering=recovering), name="hub-reader")
        self.reader.add_done_callback(self._reader_ended)

    def _stop(self) -> None:
        tasks = (self.reader, self.refresher, self.recovery)
        self.reader = self.refresher = self.recovery = None
        self.prober.stop()
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
        self.failures.interrupt(members)

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
        if self.prober.task is not None:
            adds.extend(self._add(name) for name in self.prober.groups)
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

    async def _discard_probe_group(self, name: str) -> None:
        try:
            async with self.layer_calls:
                await self.layer.group_discard(name, self.channel)
        except Exception:
            logger.warning("Could not leave group %s", name, exc_info=True)


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
