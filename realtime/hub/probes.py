"""The probe: a message the hub sends itself every HUB_PROBE_SECONDS, through probe groups of
its own (one on each Redis host), which must come back.

If Redis lost its keys while connections stayed up (FLUSHALL, a failover to an empty replica,
one shard of several restarted), the hub's subscriptions are gone without an error, and only
the missing probe tells. The hub then subscribes again and its members resume.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from channels.layers import BaseChannelLayer

from realtime import metrics
from realtime.hub.messages import PROBE

logger = logging.getLogger(__name__)

# Retries of a failed layer call: the first after this long, then twice as long each time.
RETRY_FIRST_DELAY = 0.5
RETRY_MAX_DELAY = 10.0
# A probe that is late is lost once the reader has had nothing to read for this long, or
# after PROBE_GIVE_UP whatever the reader does (the layer's message expiry is 60 s).
PROBE_IDLE = 1.0
PROBE_GIVE_UP = 60.0


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


class Prober:
    """The hub's probe loop. What it needs of the hub it is given: how to subscribe to a
    group, whether a recovery is under way, how to start one, and how many messages the
    reader has read so far."""

    def __init__(
        self,
        layer: BaseChannelLayer,
        *,
        every: float | None,
        deadline: float,
        subscribe: Callable[[str], Awaitable[None]],
        recovering: Callable[[], bool],
        recover: Callable[[], Awaitable[None]],
        reads: Callable[[], int],
    ) -> None:
        self.layer = layer
        self.every = every
        self.deadline = deadline
        self.subscribe = subscribe
        self.recovering = recovering
        self.recover = recover
        self.reads = reads
        self.task: asyncio.Task[None] | None = None
        # One probe group per Redis shard, named anew each time probing starts; a probe is
        # back once it came back through every one of them.
        self.groups: list[str] = []
        self.sent = 0
        self.back: set[str] = set()
        self.all_back = asyncio.Event()

    def start(self) -> None:
        """Probing starts, unless it is off (HUB_PROBE_SECONDS=0) or running."""
        if self.every and (self.task is None or self.task.done()):
            # A new name each time: the discard of the previous one may still be on its way.
            self.groups = probe_groups(self.layer)
            self.task = asyncio.create_task(self.run(), name="hub-prober")

    def stop(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.cancel()

    def came_back(self, message: dict[str, Any]) -> None:
        if message.get("n") == self.sent:
            self.back.add(str(message.get("group")))
            if self.back.issuperset(self.groups):
                self.all_back.set()

    async def run(self) -> None:
        """Every `every` seconds, a message to this hub's own probe groups. If it does not
        come back, the layer has lost this process's subscriptions without failing a call:
        subscribe again, and resume."""
        delay = RETRY_FIRST_DELAY
        while True:
            try:
                for name in self.groups:
                    await self.subscribe(name)
                break
            except Exception:
                logger.warning("Could not add the hub's probe group; retrying", exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_DELAY)
        while True:
            await asyncio.sleep(self.every or 0)
            if self.recovering():
                continue
            self.sent += 1
            self.back.clear()
            self.all_back.clear()
            try:
                for name in self.groups:
                    probe = {"type": PROBE, "n": self.sent, "group": name}
                    await self.layer.group_send(name, probe)
            except Exception:
                # The layer fails outright: the reader sees that too, and recovers.
                logger.warning("Could not send the hub's probe", exc_info=True)
                continue
            if not await self.returned():
                metrics.HUB_PROBES_LOST.inc()
                logger.warning("The hub's probe did not come back; subscribing again")
                await self.recover()

    async def returned(self) -> bool:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.deadline):
                await self.all_back.wait()
                return True
        except TimeoutError:
            pass
        # Late. A reader working through a backlog may not have reached it yet: lost only
        # once the reader has had nothing to read for PROBE_IDLE.
        while not self.all_back.is_set():
            read = self.reads()
            try:
                async with asyncio.timeout(PROBE_IDLE):
                    await self.all_back.wait()
                    return True
            except TimeoutError:
                if self.reads() == read or time.monotonic() - started > PROBE_GIVE_UP:
                    return False
        return True
