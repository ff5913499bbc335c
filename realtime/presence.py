"""Who has a page or a room open, across tabs and server processes.

Each open socket is one *member* of a *space* (`page.<hash>`, `room.<id>`, `site`); a person
with two tabs is two members, counted once by `logic.people`. An entry holds its expiry time.
The process's tracker refreshes the entries of its own sockets every heartbeat, so an entry
outlives its socket by at most one TTL whatever happens to the process. Sockets remove their
entries when they close, but only to be prompt: correctness never depends on that, since a
process that dies takes no disconnect handlers with it.

When the people in a space change, the tracker calls that space's announcer (e.g. render
"who is here" and push it to the room), at most once per `announce_every` seconds per process,
and less often in a space of more than `announce_reach` people.
Changes nobody announces (a tab on a process that died) are noticed on a later heartbeat.

Stores: Redis sorted sets (member -> expiry time) on the first REDIS_URL host in production;
a dictionary in this process in the embedded default.
"""

import asyncio
import logging
import math
import time
import weakref
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any, Protocol

from django.conf import settings
from redis.asyncio import BlockingConnectionPool, Redis

from realtime import logic
from realtime.config import REDIS_SOCKET_TIMEOUT

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
Announcer = Callable[[str, list[str]], Awaitable[None]]


class PresenceStore(Protocol):
    async def refresh(self, entries: Mapping[str, Collection[str]], *, expires_at: float) -> None:
        """Set the expiry of every member of every space given."""
        ...

    async def remove(self, space: str, member: str) -> None: ...

    async def members(self, spaces: Sequence[str], *, now: float) -> dict[str, list[str]]:
        """The live members of each space."""
        ...


class MemoryPresenceStore:
    """The embedded default: one process, so one dictionary is the truth."""

    def __init__(self) -> None:
        self.spaces: dict[str, dict[str, float]] = {}

    async def refresh(self, entries: Mapping[str, Collection[str]], *, expires_at: float) -> None:
        for space, members in entries.items():
            self.spaces.setdefault(space, {}).update(dict.fromkeys(members, expires_at))

    async def remove(self, space: str, member: str) -> None:
        self.spaces.get(space, {}).pop(member, None)

    async def members(self, spaces: Sequence[str], *, now: float) -> dict[str, list[str]]:
        found = {}
        for space in spaces:
            entries = self.spaces.get(space, {})
            live = logic.live_members(entries, now=now)
            if len(live) < len(entries):
                self.spaces[space] = {member: entries[member] for member in live}
            found[space] = live
        return found

    def clear(self) -> None:
        self.spaces.clear()


class RedisPresenceStore:
    """One sorted set per space, scored by expiry time; shared by every process."""

    def __init__(self, client: Any, *, ttl: float) -> None:
        self.client = client
        self.key_ttl = logic.key_ttl(ttl)

    async def refresh(self, entries: Mapping[str, Collection[str]], *, expires_at: float) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            for space, members in entries.items():
                if members:
                    key = logic.presence_key(space)
                    pipe.zadd(key, dict.fromkeys(members, expires_at))
                    pipe.expire(key, self.key_ttl)
            await pipe.execute()

    async def remove(self, space: str, member: str) -> None:
        await self.client.zrem(logic.presence_key(space), member)

    async def members(self, spaces: Sequence[str], *, now: float) -> dict[str, list[str]]:
        async with self.client.pipeline(transaction=False) as pipe:
            for space in spaces:
                key = logic.presence_key(space)
                pipe.zremrangebyscore(key, "-inf", now)
                pipe.zrangebyscore(key, f"({now}", "+inf")
            replies = await pipe.execute()
        return {
            space: sorted(m.decode() if isinstance(m, bytes) else m for m in replies[2 * i + 1])
            for i, space in enumerate(spaces)
        }


def redis_store(url: str, *, ttl: float) -> RedisPresenceStore:
    # Blocking: when every connection is busy, a caller waits its turn instead of failing.
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=settings.PRESENCE_REDIS_MAX_CONNECTIONS,
        timeout=REDIS_SOCKET_TIMEOUT,
        socket_timeout=REDIS_SOCKET_TIMEOUT,
    )
    return RedisPresenceStore(Redis(connection_pool=pool), ttl=ttl)


class Presence:
    """This process's view: its own sockets' entries, kept alive by one heartbeat, and the
    announcers of the spaces they are in."""

    def __init__(
        self,
        store: PresenceStore,
        *,
        ttl: float,
        heartbeat: float,
        announce_every: float,
        announce_reach: float = math.inf,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.heartbeat = heartbeat
        self.announce_every = announce_every
        # People told per second per space, at most: a space of more people than that is
        # announced less often (`interval`).
        self.announce_reach = announce_reach
        self.clock = clock
        self.sleep = sleep
        self.local: dict[str, set[str]] = {}
        self.announcers: dict[str, Announcer] = {}
        self.announced: dict[str, list[int]] = {}
        self.last_announced: dict[str, float] = {}
        self.pending: dict[str, asyncio.Task[None]] = {}
        # Spaces that changed while their announcement was already reading.
        self.dirty: set[str] = set()
        self.beating: asyncio.Task[None] | None = None

    async def enter(self, space: str, member: str, *, announce: Announcer | None = None) -> None:
        self.local.setdefault(space, set()).add(member)
        if announce is not None:
            self.announcers[space] = announce
        await self.store.refresh({space: [member]}, expires_at=self.expiry())
        self.changed(space)
        if self.beating is None or self.beating.done():
            self.beating = asyncio.create_task(self.beat())

    async def leave(self, space: str, member: str) -> None:
        members = self.local.get(space)
        if members is not None:
            members.discard(member)
            if not members:
                del self.local[space]
        try:
            await self.store.remove(space, member)
        except Exception:
            # The entry expires by itself within one TTL.
            logger.warning("Could not remove a presence entry of %s", space, exc_info=True)
        self.changed(space)

    async def members(self, space: str) -> list[str]:
        return (await self.store.members([space], now=self.clock()))[space]

    async def people(self, space: str) -> list[int]:
        return logic.people(await self.members(space))

    async def people_entering(self, space: str, person: int) -> list[int] | None:
        """Who a socket of `person` that just entered `space` is shown is there: what this
        process last announced there, without reading the space (a big room's every entry
        per socket opening). The announcement the entry made due reads the space, and pushes
        it to everyone there, this socket included, unless it is exactly that: so the socket
        ends up shown what is true, whatever changed meanwhile. None when `person` is not
        among them: that announcement is bound to differ, and tells."""
        if space not in self.announcers:  # nothing will tell: read it
            return await self.people(space)
        told = self.announced.get(space, [])
        return told if person in told else None

    def expiry(self) -> float:
        return logic.expires_at(self.clock(), ttl=self.ttl)

    def changed(self, space: str) -> None:
        """Announce `space` soon, unless an announcement is already waiting."""
        if space not in self.announcers:
            return
        if space in self.pending:
            self.dirty.add(space)
            return
        when = logic.next_announcement(
            now=self.clock(), last=self.last_announced.get(space), interval=self.interval(space)
        )
        self.pending[space] = asyncio.create_task(self.announce(space, delay=when - self.clock()))

    def interval(self, space: str) -> float:
        return logic.announce_interval(
            people=len(self.announced.get(space, ())),
            every=self.announce_every,
            reach=self.announce_reach,
        )

    async def announce(self, space: str, *, delay: float) -> None:
        try:
            if delay > 0:
                await self.sleep(delay)
            members = await self.members(space)
            self.last_announced[space] = self.clock()
            who = logic.people(members)
            if self.announced.get(space) == who:
                return
            # Set before the push: a socket shown this (people_entering) while it is on its
            # way gets it, or the next announcement that differs.
            self.announced[space] = who
            await self.announcers[space](space, members)
        except Exception:
            logger.warning("Announcing presence in %s failed", space, exc_info=True)
            # Not told after all: the next heartbeat finds it differs, and announces again.
            self.announced.pop(space, None)
        finally:
            del self.pending[space]
            if space in self.dirty:
                self.dirty.discard(space)
                self.changed(space)
            elif space not in self.local:
                # Nobody here any more: this process stops announcing the space.
                self.announcers.pop(space, None)
                self.announced.pop(space, None)
                self.last_announced.pop(space, None)

    async def beat(self) -> None:
        while self.local:
            await self.sleep(self.heartbeat)
            entries = {space: tuple(members) for space, members in self.local.items()}
            try:
                await self.store.refresh(entries, expires_at=self.expiry())
            except Exception:
                logger.warning("Refreshing presence failed; retrying next beat", exc_info=True)
                continue
            # Someone may have gone without a goodbye (their process died): look again, at every
            # space in one round trip, and announce only where the people changed.
            watched = [space for space in entries if space in self.announcers]
            try:
                current = await self.store.members(watched, now=self.clock())
            except Exception:
                logger.warning("Reading presence failed; retrying next beat", exc_info=True)
                continue
            for space, members in current.items():
                if logic.people(members) != self.announced.get(space):
                    self.changed(space)


memory_store = MemoryPresenceStore()
_trackers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Presence] = (
    weakref.WeakKeyDictionary()
)


def make_store() -> PresenceStore:
    url = settings.PRESENCE_REDIS_URL
    if not url:
        return memory_store
    return redis_store(url, ttl=settings.PRESENCE_TTL_SECONDS)


def get_presence() -> Presence:
    """The presence tracker of the running event loop (one per server process)."""
    loop = asyncio.get_running_loop()
    tracker = _trackers.get(loop)
    if tracker is None:
        tracker = _trackers[loop] = Presence(
            make_store(),
            ttl=settings.PRESENCE_TTL_SECONDS,
            heartbeat=settings.PRESENCE_HEARTBEAT_SECONDS,
            announce_every=settings.PRESENCE_ANNOUNCE_SECONDS,
            announce_reach=settings.PRESENCE_ANNOUNCE_REACH,
        )
    return tracker
