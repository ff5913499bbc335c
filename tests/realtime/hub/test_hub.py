"""realtime.hub.hub: memberships, subscriptions and delivery to the local sockets."""

import asyncio

import pytest

from realtime import metrics
from realtime.hub.hub import Hub
from realtime.hub.messages import (
    batch_event,
    carrier,
    leave_event,
    push_event,
    session_event,
)
from tests.realtime.hub.doubles import CountingLayer, Socket, numbered
from tests.waiting import until

pytestmark = pytest.mark.asyncio


async def test_a_group_message_reaches_each_local_member_once(hub):
    a, b, elsewhere = Socket(), Socket(), Socket()
    await hub.join("room", a)
    await hub.join("room", b)
    await hub.join("other", elsewhere)

    await hub.layer.group_send("room", push_event("room", "<p>hi</p>"))
    await until(lambda: a.received and b.received)
    assert a.received == b.received == ["<p>hi</p>"]
    assert elsewhere.received == []
    # One subscription per group for the whole process, however many members.
    assert hub.layer.adds == ["room", "other"]
    assert hub.group_size("room") == 2


async def test_a_batch_is_delivered_message_by_message_in_order(hub):
    # What an outbox sends for pushes that queued up for one carrier (realtime.push).
    tab, other_person = Socket(), Socket()
    await hub.join("user.1", tab)
    await hub.join("user.1.inbox", tab)
    await hub.join("user.2", other_person)
    first = push_event("user.1", "<p>1</p>")
    second = push_event("user.1.inbox", "<p>2</p>")
    gone = leave_event("user.1", leave="room", html="<p>gone</p>")
    theirs = push_event("user.2", "<p>theirs</p>")

    await hub.layer.group_send(carrier("user.1"), batch_event([first, second, gone]))
    await hub.layer.group_send(carrier("user.2"), batch_event([theirs]))
    await until(lambda: tab.removals and other_person.received)
    assert tab.received == ["<p>1</p>", "<p>2</p>"]
    assert tab.removals == [("room", "<p>gone</p>")]
    assert other_person.received == ["<p>theirs</p>"]
    assert tab.interruptions == other_person.interruptions == 0  # numbered without a gap


async def test_pushes_for_one_group_in_a_row_reach_each_member_in_one_write(hub):
    a, b = Socket(), Socket()
    await hub.join("room", a)
    await hub.join("room", b)
    run = [push_event("room", f"<p>{n}</p>") for n in range(3)]
    other = push_event("elsewhere", "<p>not theirs</p>")
    later = push_event("room", "<p>3</p>")

    await hub.layer.group_send("room", batch_event([*run, other, later]))
    await until(lambda: len(a.received) == len(b.received) == 4)
    assert a.received == b.received == [f"<p>{n}</p>" for n in range(4)]
    assert a.writes == b.writes == 2  # the three in a row, then the one after the other group's


async def test_a_leave_event_reaches_the_members_of_its_group_only(hub):
    tab, other_person = Socket(), Socket()
    await hub.join("user.1", tab)
    await hub.join("user.2", other_person)

    await hub.layer.group_send(
        carrier("user.1"), leave_event("user.1", leave="room", html="<p>gone</p>")
    )
    await until(lambda: tab.removals)
    assert tab.removals == [("room", "<p>gone</p>")]
    assert tab.received == []  # the member decides whether the page is told
    assert other_person.removals == []


async def test_a_session_event_reaches_the_members_of_its_group_only(hub):
    tab, other_group, other_person = Socket(), Socket(), Socket()
    await hub.join("user.1.sockets", tab)
    await hub.join("user.1", other_group)  # the same carrier
    await hub.join("user.2.sockets", other_person)

    change = {"session_key": "abc"}
    await hub.layer.group_send(carrier("user.1.sockets"), session_event("user.1.sockets", change))
    await until(lambda: tab.session_changes)
    assert tab.session_changes == [change]
    assert tab.received == []
    assert other_group.session_changes == other_person.session_changes == []


async def test_people_in_one_carrier_hear_only_their_own_messages(hub, settings):
    settings.HUB_PERSON_CARRIERS = 64
    ada_tab, ada_inbox, grace = Socket(), Socket(), Socket()
    await hub.join("user.1", ada_tab)
    await hub.join("user.1.inbox", ada_inbox)
    await hub.join("user.65", grace)
    assert hub.layer.adds == ["users.1"]  # one subscription for all three

    await hub.layer.group_send("users.1", push_event("user.1.inbox", "for ada's inbox"))
    await hub.layer.group_send("users.1", push_event("user.65", "for grace"))
    await hub.layer.group_send("users.1", push_event("user.129", "for nobody here"))
    await until(lambda: ada_inbox.received and grace.received)
    assert ada_inbox.received == ["for ada's inbox"]
    assert grace.received == ["for grace"]
    assert ada_tab.received == []

    # The carrier stays while any of its groups has a member here.
    await hub.leave("user.1", ada_tab)
    await hub.leave("user.1.inbox", ada_inbox)
    assert hub.layer.discards == []
    await hub.leave("user.65", grace)
    assert hub.layer.discards == ["users.1"]
    assert (hub.members, hub.carriers) == ({}, {})


async def test_concurrent_first_joins_subscribe_once(hub):
    sockets = [Socket() for _ in range(20)]
    await asyncio.gather(*(hub.join("room", s) for s in sockets))
    assert hub.layer.adds == ["room"]
    assert hub.group_size("room") == 20


async def test_the_last_leave_unsubscribes_and_a_racing_join_resubscribes(hub):
    first, second = Socket(), Socket()
    await hub.join("room", first)
    await asyncio.gather(hub.leave("room", first), hub.join("room", second))
    assert hub.layer.discards == ["room"]
    assert hub.layer.adds == ["room", "room"]
    # Still subscribed, in the layer too: the newcomer hears the room.
    await hub.layer.group_send("room", push_event("room", "still here"))
    await until(lambda: second.received)
    assert second.received == ["still here"]


async def test_leaving_everything_forgets_the_group_and_stops_reading(hub):
    socket = Socket()
    await hub.join("room", socket)
    assert hub.reader is not None
    await hub.leave("room", socket)
    await hub.leave("room", socket)  # twice is harmless
    assert (hub.members, hub.carriers) == ({}, {})
    assert hub.reader is None
    assert hub.layer.discards == ["room"]


async def test_messages_for_groups_without_members_are_dropped(hub):
    socket = Socket()
    await hub.join("room", socket)
    hub.deliver(push_event("gone", "nobody"))
    hub.deliver({"type": "something.else"})
    assert socket.received == []


async def test_after_a_layer_failure_groups_are_readded_and_members_resume(hub, monkeypatch):
    monkeypatch.setattr("realtime.hub.hub.RETRY_FIRST_DELAY", 0.01)
    socket = Socket()
    hub.layer.receive_failures = 1
    await hub.join("room", socket)
    await until(lambda: socket.interruptions == 1)
    assert hub.layer.adds == ["room", "room"]
    await hub.layer.group_send("room", push_event("room", "after"))
    await until(lambda: socket.received)


async def test_layer_calls_are_bounded_when_many_sockets_leave_at_once():
    class Gauge(CountingLayer):
        def __init__(self) -> None:
            super().__init__()
            self.now = self.peak = 0

        async def group_discard(self, group, channel):
            self.now += 1
            self.peak = max(self.peak, self.now)
            await super().group_discard(group, channel)
            self.now -= 1

    hub = Hub(Gauge(), refresh_every=3600, concurrency=5)
    sockets = [Socket() for _ in range(40)]
    await asyncio.gather(*(hub.join(f"room.{i}", s) for i, s in enumerate(sockets)))
    await asyncio.gather(*(hub.leave(f"room.{i}", s) for i, s in enumerate(sockets)))
    assert hub.layer.peak == 5
    assert len(hub.layer.discards) == 40
    assert (hub.members, hub.carriers) == ({}, {})


async def test_memberships_are_refreshed_before_they_expire(monkeypatch):
    hub = Hub(CountingLayer(), refresh_every=0.02)
    socket = Socket()
    await hub.join("room", socket)
    await until(lambda: len(hub.layer.adds) >= 3)
    assert set(hub.layer.adds) == {"room"}
    hub._stop()


async def test_a_skipped_sequence_number_makes_that_carriers_members_resume(hub):
    room, other = Socket(), Socket()
    await hub.join("room", room)
    await hub.join("other", other)
    before = metrics.HUB_GAPS._value.get()
    for seq in (1, 2, 4):  # 3 was dropped on the way
        await hub.layer.group_send("room", numbered("room", f"<p>{seq}</p>", src="a", seq=seq))
    await hub.layer.group_send("other", numbered("other", "<p>o</p>", src="a", seq=7))
    await until(lambda: room.interruptions == 1 and other.received)
    # 4 is not shown: the page's cursor (its newest message) must not pass the lost 3.
    assert room.received == ["<p>1</p>", "<p>2</p>"]
    assert other.interruptions == 0
    assert metrics.HUB_GAPS._value.get() - before == 1


async def test_each_sender_is_followed_on_its_own_and_repeats_are_no_gap(hub):
    room = Socket()
    await hub.join("room", room)
    for src, seq in (("a", 1), ("b", 40), ("a", 2), ("b", 41), ("a", 2), ("a", 3)):
        await hub.layer.group_send("room", numbered("room", f"{src}{seq}", src=src, seq=seq))
    await until(lambda: len(room.received) == 6)
    assert room.interruptions == 0


async def test_a_stream_starts_afresh_after_its_carrier_is_left(hub):
    first, second = Socket(), Socket()
    await hub.join("room", first)
    await hub.layer.group_send("room", numbered("room", "<p>1</p>", src="a", seq=1))
    await until(lambda: first.received)
    await hub.leave("room", first)
    await hub.join("room", second)
    await hub.layer.group_send("room", numbered("room", "<p>9</p>", src="a", seq=9))
    await hub.layer.group_send("room", numbered("room", "<p>10</p>", src="a", seq=10))
    await until(lambda: len(second.received) == 2)
    assert second.interruptions == 0
