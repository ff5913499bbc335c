import asyncio

import pytest
import pytest_asyncio
from channels.layers import InMemoryChannelLayer

from realtime.hub import Hub, carrier, close_event, leave_event, push_event

pytestmark = pytest.mark.asyncio


class CountingLayer(InMemoryChannelLayer):
    def __init__(self) -> None:
        super().__init__()
        self.adds: list[str] = []
        self.discards: list[str] = []
        self.receive_failures = 0

    async def group_add(self, group, channel):
        self.adds.append(group)
        await asyncio.sleep(0.01)  # a round trip, so that joins can race
        await super().group_add(group, channel)

    async def group_discard(self, group, channel):
        self.discards.append(group)
        await asyncio.sleep(0.01)
        await super().group_discard(group, channel)

    async def receive(self, channel):
        if self.receive_failures:
            self.receive_failures -= 1
            raise ConnectionError("redis went away")
        return await super().receive(channel)


class Socket:
    def __init__(self) -> None:
        self.received: list[str] = []
        self.interruptions = 0
        self.removals: list[tuple[str, str]] = []
        self.closed_with: list[int] = []

    def deliver(self, html: str, frame: bytes | None = None) -> None:
        self.received.append(html)

    def interrupted(self) -> None:
        self.interruptions += 1

    def removed(self, group: str, html: str) -> None:
        self.removals.append((group, html))

    def close_soon(self, code: int) -> None:
        self.closed_with.append(code)


@pytest_asyncio.fixture
async def hub():
    hub = Hub(CountingLayer(), refresh_every=3600)
    yield hub
    hub._stop()


async def until(condition):
    async with asyncio.timeout(2):
        while not condition():  # noqa: ASYNC110 - polls state the hub changes in its own tasks
            await asyncio.sleep(0.005)


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


async def test_a_close_event_closes_the_members_of_its_group_only(hub):
    # Two people whose personal groups share one carrier: only the one named is closed.
    gone, staying = Socket(), Socket()
    await hub.join("user.1", gone)
    await hub.join("user.1.reader", gone)
    await hub.join("user.65", staying)
    assert carrier("user.1") == carrier("user.65")

    await hub.layer.group_send(carrier("user.1"), close_event("user.1", code=4401))
    await until(lambda: gone.closed_with)
    assert gone.closed_with == [4401]  # once, though it is in two of the person's groups
    assert staying.closed_with == []


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


@pytest.mark.parametrize(
    ("group", "carried_by"),
    [
        ("user.3", "users.3"),
        ("user.67.inbox", "users.3"),
        ("user.64.reader", "users.0"),
        ("room.3", "room.3"),
        ("user.3x", "user.3x"),
        ("users.3", "users.3"),
    ],
)
async def test_a_persons_groups_share_one_of_a_few_carriers(group, carried_by, settings):
    settings.HUB_PERSON_CARRIERS = 64
    assert carrier(group) == carried_by


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
    monkeypatch.setattr("realtime.hub.RETRY_FIRST_DELAY", 0.01)
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
