import asyncio
import time

import pytest

from realtime.presence import MemoryPresenceStore, Presence

pytestmark = pytest.mark.asyncio

SPACE = "room.1"


class Announcements:
    def __init__(self) -> None:
        self.made: list[list[str]] = []

    async def __call__(self, space: str, members: list[str]) -> None:
        self.made.append(members)


def tracker(store, *, ttl=5.0, heartbeat=1.0, announce_every=0.2, clock=time.time):
    return Presence(store, ttl=ttl, heartbeat=heartbeat, announce_every=announce_every, clock=clock)


async def settle(seconds=0.05):
    await asyncio.sleep(seconds)


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
    dead = tracker(store, ttl=30.0, clock=lambda: now[0])
    here = tracker(store, ttl=30.0, clock=lambda: now[0])
    await dead.enter(SPACE, "1:tab")
    dead.beating.cancel()
    await here.enter(SPACE, "2:tab")

    now[0] += 29.0
    assert await here.people(SPACE) == [1, 2]
    now[0] += 2.0
    assert await here.people(SPACE) == []  # neither refreshed: both expired
    assert store.spaces[SPACE] == {}  # and the expired entries are pruned


async def test_the_heartbeat_keeps_open_sockets_present_past_their_ttl():
    presence = tracker(MemoryPresenceStore(), ttl=0.3, heartbeat=0.1)
    await presence.enter(SPACE, "1:tab")
    await asyncio.sleep(0.8)
    assert await presence.people(SPACE) == [1]

    await presence.leave(SPACE, "1:tab")
    assert await presence.people(SPACE) == []
    await settle(0.15)
    assert presence.beating.done()  # nothing left to keep alive


async def test_announcements_are_coalesced_to_one_per_interval_and_end_right():
    announcements = Announcements()
    presence = tracker(MemoryPresenceStore(), announce_every=0.3)

    for user_id in range(1, 21):
        await presence.enter(SPACE, f"{user_id}:tab", announce=announcements)
    await asyncio.sleep(0.5)

    assert 1 <= len(announcements.made) <= 2
    assert len(announcements.made[-1]) == 20


async def test_a_second_tab_announces_nothing_new_but_a_person_leaving_does():
    announcements = Announcements()
    presence = tracker(MemoryPresenceStore(), announce_every=0.05)
    await presence.enter(SPACE, "1:a", announce=announcements)
    await presence.enter(SPACE, "2:a", announce=announcements)
    await settle(0.15)
    made = len(announcements.made)

    await presence.enter(SPACE, "2:b", announce=announcements)
    await settle(0.15)
    assert len(announcements.made) == made

    await presence.leave(SPACE, "1:a")
    await settle(0.15)
    assert announcements.made[-1] == ["2:a", "2:b"]


async def test_the_heartbeat_announces_someone_who_left_without_a_goodbye():
    store = MemoryPresenceStore()
    announcements = Announcements()
    presence = tracker(store, ttl=0.3, heartbeat=0.1, announce_every=0.05)
    await presence.enter(SPACE, "1:here", announce=announcements)
    # A tab held by another process that stops refreshing it.
    await store.refresh({SPACE: ["2:elsewhere"]}, expires_at=time.time() + 0.3)
    await settle(0.2)
    assert announcements.made[-1] == ["1:here", "2:elsewhere"]

    await asyncio.sleep(0.5)
    assert announcements.made[-1] == ["1:here"]
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
