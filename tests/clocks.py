"""Time that moves only when a test says, for presence trackers (their clock and their sleep)."""

import asyncio
import math
from collections.abc import Iterator
from contextlib import contextmanager

from realtime import presence as presence_module
from realtime.presence import Presence, PresenceStore

# The tracker sockets get in tests (`presence_clock`): what the clock is moved by.
TTL = 30.0
HEARTBEAT = 10.0

# A bound on how long the trackers' due work may take (it may render and push): a deadline
# for a test that would otherwise hang, not a wait.
SETTLE_SECONDS = 5.0


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleepers: list[tuple[float, asyncio.Future[None], asyncio.Task[None] | None]] = []
        self.trackers: list[Presence] = []

    def __call__(self) -> float:
        return self.now

    def tracker(
        self,
        store: PresenceStore,
        *,
        ttl: float,
        heartbeat: float,
        announce_every: float,
        announce_reach: float = math.inf,
    ) -> Presence:
        presence = Presence(
            store,
            ttl=ttl,
            heartbeat=heartbeat,
            announce_every=announce_every,
            announce_reach=announce_reach,
            clock=self,
            sleep=self.sleep,
        )
        self.trackers.append(presence)
        return presence

    async def sleep(self, seconds: float) -> None:
        woken = asyncio.get_running_loop().create_future()
        sleeper = (self.now + seconds, woken, asyncio.current_task())
        self.sleepers.append(sleeper)
        try:
            await woken
        finally:
            if sleeper in self.sleepers:
                self.sleepers.remove(sleeper)

    def asleep(self, task: "asyncio.Task[None]") -> bool:
        return any(sleeping is task for _, _, sleeping in self.sleepers)

    async def settle(self) -> None:
        """Until each task of the trackers (heartbeat, announcements) is done or asleep on
        this clock: everything due by now has happened."""

        def busy() -> bool:
            for presence in self.trackers:
                for task in (presence.beating, *presence.pending.values()):
                    if task is not None and not task.done() and not self.asleep(task):
                        return True
            return False

        async with asyncio.timeout(SETTLE_SECONDS):
            while busy():  # noqa: ASYNC110 - the trackers' tasks run on this loop
                await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        """Move time on by `seconds`, waking each sleeper at its time, in order, and return
        once everything due by then has happened."""
        end = self.now + seconds
        await self.settle()
        while due := [at for at, _, _ in self.sleepers if at <= end]:
            self.now = min(due)
            for sleeper in [sleeper for sleeper in self.sleepers if sleeper[0] == self.now]:
                self.sleepers.remove(sleeper)
                sleeper[1].set_result(None)
            await self.settle()
        self.now = end


@contextmanager
def this_loops_presence(presence: Presence) -> Iterator[Presence]:
    """Make `presence` what get_presence() returns on the running loop, for sockets."""
    loop = asyncio.get_running_loop()
    presence_module._trackers[loop] = presence
    try:
        yield presence
    finally:
        presence_module._trackers.pop(loop, None)
        for task in (presence.beating, *presence.pending.values()):
            if task is not None:
                task.cancel()
