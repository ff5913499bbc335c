import math

import pytest

from realtime.presence import MemoryPresenceStore, Presence
from tests.clocks import ManualClock

pytestmark = pytest.mark.asyncio

SPACE = "room.1"


class Announcements:
    def __init__(self) -> None:
        self.made: list[list[str]] = []

    async def __call__(self, space: str, members: list[str]) -> None:
        self.made.append(members)


def tracker(
    store, *, ttl=5.0, heartbeat=1.0, announce_every=0.2, announce_reach=math.inf, clock=None
):
    timing = {"ttl": ttl, "heartbeat": heartbeat, "announce_every": announce_every}
    if clock is None:
        return Presence(store, **timing, announce_reach=announce_reach)
    return clock.tracker(store, **timing, announce_reach=announce_reach)


async def test_two_tabs_of_one_person_count_once():
    presence = tracker(MemoryPresenceStore())
    await presence.enter(SPACE, "1:tab-a")
    await presence.enter(SPACE, "1:tab-b")
    await presence.enter(SPACE, "2:tab-c")

    assert await presence.members(SPACE) == ["1:tab-a", "1:tab-b", "2:tab-c"]
    assert await presence.people(SPACE) == [1, 2]

    await presence.leave(SPACE, "1:tab-a")
    assert await presence.people(SPACE) == [1, 2]  # the other tab is still open
    await presence.leave(SPACE, "1:tab-b")
    assert await presence.people(SPACE) == [2]


async def test_an_entry_nobody_refreshes_expires_without_any_goodbye():
    now = [1000.0]
    store = MemoryPresenceStore()
    # Another server process: its sockets entered, then it died (no leave, no heartbeat).
    dead = Presence(store, ttl=30.0, heartbeat=1.0, announce_every=0.2, clock=lambda: now[0])
    here = Presence(store, ttl=30.0, heartbeat=1.0, announce_every=0.2, clock=lambda: now[0])
    await dead.enter(SPACE, "1:tab")
    assert dead.beating is not None
    dead.beating.cancel()
    await here.enter(SPACE, "2:tab")

    now[0] += 29.0
    assert await here.people(SPACE) == [1, 2]
    now[0] += 2.0
    assert await here.people(SPACE) == []  # neither refreshed: both expired
    assert store.spaces[SPACE] == {}  # and the expired entries are pruned


async def test_the_heartbeat_keeps_open_sockets_present_past_their_ttl():
    clock = ManualClock()
    presence = tracker(MemoryPresenceStore(), ttl=3.0, heartbeat=1.0, clock=clock)
    await presence.enter(SPACE, "1:tab")
    await clock.advance(8.0)
    assert await presence.people(SPACE) == [1]

    await presence.leave(SPACE, "1:tab")
    assert await presence.people(SPACE) == []
    await clock.advance(1.0)
    assert presence.beating.done()  # nothing left to keep alive


async def test_announcements_are_coalesced_to_one_per_interval_and_end_right():
    clock = ManualClock()
    announcements = Announcements()
    presence = tracker(MemoryPresenceStore(), announce_every=3.0, clock=clock)
    members = [f"{user_id}:tab" for user_id in range(1, 21)]

    for member in members[:10]:
        await presence.enter(SPACE, member, announce=announcements)
    await clock.advance(0.0)
    assert announcements.made == [sorted(members[:10])]

    for member in members[10:]:
        await presence.enter(SPACE, member, announce=announcements)
    await clock.advance(2.5)
    assert len(announcements.made) == 1  # within the interval: held back

    await clock.advance(0.5)
    assert announcements.made == [sorted(members[:10]), sorted(members)]


async def test_a_second_tab_announces_nothing_new_but_a_person_leaving_does():
    clock = ManualClock()
    announcements = Announcements()
    presence = tracker(MemoryPresenceStore(), announce_every=1.0, clock=clock)
    await presence.enter(SPACE, "1:a", announce=announcements)
    await presence.enter(SPACE, "2:a", announce=announcements)
    await clock.advance(1.0)
    assert announcements.made == [["1:a", "2:a"]]

    await presence.enter(SPACE, "2:b", announce=announcements)
    await clock.advance(1.0)
    assert announcements.made == [["1:a", "2:a"]]

    await presence.leave(SPACE, "1:a")
    await clock.advance(1.0)
    assert announcements.made == [["1:a", "2:a"], ["2:a", "2:b"]]


async def test_the_heartbeat_announces_someone_who_left_without_a_goodbye():
    clock = ManualClock()
    store = MemoryPresenceStore()
    announcements = Announcements()
    presence = tracker(store, ttl=3.0, heartbeat=1.0, announce_every=0.5, clock=clock)
    # A tab held by another process that stops refreshing it.
    await store.refresh({SPACE: ["2:elsewhere"]}, expires_at=clock.now + 3.0)
    await presence.enter(SPACE, "1:here", announce=announcements)
    await clock.advance(0.0)
    assert announcements.made == [["1:here", "2:elsewhere"]]

    await clock.advance(2.0)
    assert announcements.made == [["1:here", "2:elsewhere"]]  # not expired yet
    await clock.advance(1.0)  # it expires; this heartbeat notices
    assert announcements.made == [["1:here", "2:elsewhere"], ["1:here"]]
    await presence.leave(SPACE, "1:here")


class UnreachableStore(MemoryPresenceStore):
    async def remove(self, space: str, member: str) -> None:
        raise ConnectionError("Redis went away")


async def test_leaving_survives_a_store_that_cannot_remove(caplog):
    presence = tracker(UnreachableStore())
    await presence.enter(SPACE, "1:tab")

    await presence.leave(SPACE, "1:tab")

    assert SPACE not in presence.local
    assert "Could not remove a presence entry" in caplog.text


class CountingStore(MemoryPresenceStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def members(self, spaces, *, now):
        self.reads += 1
        return await super().members(spaces, now=now)


async def test_a_socket_entering_is_shown_the_last_announcement_without_reading_the_space():
    clock = ManualClock()
    store = CountingStore()
    presence = tracker(store, clock=clock, announce_every=3.0)
    told = Announcements()
    for member in ("1:a", "2:a"):
        await presence.enter(SPACE, member, announce=told)
    await clock.advance(0.0)
    assert told.made == [["1:a", "2:a"]]
    reads = store.reads

    # Another process's socket leaves: this one learns of it only by reading the space.
    await store.remove(SPACE, "2:a")
    presence.local[SPACE].discard("2:a")
    await presence.enter(SPACE, "1:b", announce=told)
    assert await presence.people_entering(SPACE, 1) == [1, 2]
    assert store.reads == reads

    # What the socket was shown is exactly what the announcement compares with: it differs
    # from what is true, so everyone, the socket included, is told.
    await clock.advance(3.0)
    assert told.made[-1] == ["1:a", "1:b"]


async def test_an_announcement_that_fails_is_made_again_by_the_heartbeat():
    clock = ManualClock()
    presence = tracker(MemoryPresenceStore(), clock=clock, heartbeat=10.0)
    told = Announcements()
    failures = [RuntimeError("the channel layer is down")]

    async def announce(space, members):
        if failures:
            raise failures.pop()
        await told(space, members)

    await presence.enter(SPACE, "1:a", announce=announce)
    assert await presence.people_entering(SPACE, 1) is None
    await clock.advance(0.0)
    assert told.made == []
    # Not told: the newcomer is still waiting for the announcement.
    assert await presence.people_entering(SPACE, 1) is None

    await clock.advance(10.0)
    assert told.made == [["1:a"]]
    assert await presence.people_entering(SPACE, 1) == [1]


async def test_a_newcomer_is_told_who_is_here_by_the_announcement_of_their_arrival():
    clock = ManualClock()
    presence = tracker(MemoryPresenceStore(), clock=clock)
    announcements = Announcements()
    await presence.enter(SPACE, "1:tab-a", announce=announcements)
    # New to the space: the announcement their arrival made due tells everyone, them too.
    assert await presence.people_entering(SPACE, 1) is None
    await clock.settle()
    assert announcements.made == [["1:tab-a"]]

    # A second tab of someone announced already: no announcement will come, so it is told.
    await presence.enter(SPACE, "1:tab-b", announce=announcements)
    assert await presence.people_entering(SPACE, 1) == [1]
    await clock.settle()
    assert announcements.made == [["1:tab-a"]]


async def test_a_big_space_is_announced_less_often_to_bound_who_is_told_per_second():
    clock = ManualClock()
    announcements = Announcements()
    presence = tracker(
        MemoryPresenceStore(),
        ttl=60.0,
        heartbeat=30.0,
        announce_every=1.0,
        announce_reach=2,
        clock=clock,
    )
    for member in ("1:tab", "2:tab", "3:tab", "4:tab"):
        await presence.enter(SPACE, member, announce=announcements)
    await clock.advance(0.0)
    assert announcements.made == [["1:tab", "2:tab", "3:tab", "4:tab"]]
    told = len(announcements.made)

    # Four people, at most two told per second: the next change waits two seconds, not one.
    await presence.leave(SPACE, "4:tab")
    await clock.advance(1.5)
    assert len(announcements.made) == told
    await clock.advance(0.5)
    assert announcements.made[-1] == ["1:tab", "2:tab", "3:tab"]


async def test_a_socket_entering_a_space_nobody_announces_is_shown_it_as_read():
    presence = tracker(MemoryPresenceStore())
    await presence.enter(SPACE, "2:a")
    await presence.enter(SPACE, "1:a")
    # No announcement will follow: what it is shown must be read now.
    assert await presence.people_entering(SPACE, 1) == [1, 2]
