import asyncio
import logging

import pytest
import pytest_asyncio
from channels.layers import InMemoryChannelLayer
from channels_redis.core import _consistent_hash

from realtime import metrics
from realtime.hub.hub import Hub
from realtime.hub.messages import LEAVE, PUSH, carrier, leave_event, push_event, session_event
from realtime.hub.probes import probe_groups
from tests.waiting import until

pytestmark = pytest.mark.asyncio


class CountingLayer(InMemoryChannelLayer):
    def __init__(self) -> None:
        super().__init__()
        self.adds: list[str] = []
        self.discards: list[str] = []
        self.receive_failures = 0
        self.add_failures: dict[str, int] = {}  # group: how many of its next adds fail

    async def group_add(self, group, channel):
        self.adds.append(group)
        if self.add_failures.get(group):
            self.add_failures[group] -= 1
            raise ConnectionError("redis refused the add")
        # Not a wait: a point where the add yields, as a round trip to Redis would, so that
        # joins and leaves can race.
        await asyncio.sleep(0)
        await super().group_add(group, channel)

    async def group_discard(self, group, channel):
        self.discards.append(group)
        await asyncio.sleep(0)  # likewise
        await super().group_discard(group, channel)

    async def receive(self, channel):
        if self.receive_failures:
            self.receive_failures -= 1
            raise ConnectionError("redis went away")
        return await super().receive(channel)


class Socket:
    def __init__(self, *, fails: bool = False) -> None:
        self.received: list[str] = []
        self.interruptions = 0
        self.removals: list[tuple[str, str]] = []
        self.fails = fails
        self.session_changes: list[dict[str, object]] = []

    def deliver(self, html: str, frame: bytes | None = None) -> None:
        if self.fails:
            raise RuntimeError("this socket's delivery is broken")
        self.received.append(html)

    def interrupted(self) -> None:
        self.interruptions += 1

    def removed(self, group: str, html: str) -> None:
        self.removals.append((group, html))

    def session_changed(self, change: dict[str, object]) -> None:
        self.session_changes.append(change)


@pytest_asyncio.fixture
async def hub():
    hub = Hub(CountingLayer(), refresh_every=3600)
    yield hub
    hub._stop()


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


def failures(kind: str) -> float:
    return float(metrics.HUB_FAILURES.labels(kind=kind)._value.get())


def numbered(group: str, html: str, *, src: str, seq: int) -> dict[str, object]:
    return {"type": PUSH, "group": group, "html": html, "src": src, "seq": seq}


MALFORMED = [
    {},
    {"type": PUSH},
    {"type": PUSH, "group": "room"},
    {"type": PUSH, "html": "<p>no group</p>"},
    {"type": PUSH, "group": "room", "html": None},
    {"type": PUSH, "group": "room", "html": 5},
    {"type": PUSH, "group": "room", "html": b"bytes"},
    {"type": PUSH, "group": ["room"], "html": "<p>a list</p>"},
    {"type": PUSH, "group": "user.1", "html": ["x"]},
    {"type": LEAVE, "group": "user.1"},
    {"type": LEAVE, "group": "user.1", "leave": 3, "html": ""},
    {"type": "chat.message", "group": "room", "html": "<p>an unknown type</p>"},
    {"type": None},
    {"type": ["a", "list"]},
    {"html": "<p>no type</p>"},
]


@pytest.mark.parametrize("group", ["room", "user.1", "user.1.inbox"])
async def test_malformed_messages_of_every_shape_do_not_stop_delivery(hub, group, caplog):
    member = Socket()
    await hub.join(group, member)
    before = failures("message")
    for message in MALFORMED:
        await hub.layer.group_send(carrier(group), message)
    hub.deliver("not even a dict")
    # Numbers it cannot read do not spoil a push: it is delivered, unnumbered.
    odd = {"type": PUSH, "group": group, "html": "<p>odd</p>", "src": 1, "seq": "x"}
    await hub.layer.group_send(carrier(group), odd)
    await hub.layer.group_send(carrier(group), push_event(group, "<p>still live</p>"))
    await until(lambda: len(member.received) == 2)

    assert member.received == ["<p>odd</p>", "<p>still live</p>"]
    assert member.interruptions == 0
    # Every bad message is counted; a valid one with a bad field among them is too.
    assert failures("message") - before == len(MALFORMED) + 1
    assert not hub.reader.done()


async def test_a_repeated_failure_is_logged_once(hub, caplog):
    member = Socket()
    await hub.join("room", member)
    caplog.set_level(logging.WARNING, logger="realtime.hub.failures")
    for _ in range(50):
        hub.deliver({"type": PUSH, "group": "room"})
    hub.deliver({"type": "unknown", "group": "room"})
    logged = [r.getMessage() for r in caplog.records if r.name == "realtime.hub.failures"]
    assert len(logged) == 2
    assert "'html.push'" in logged[0]
    assert "'room'" in logged[0]
    assert "'unknown'" in logged[1]


async def test_a_member_whose_delivery_raises_spoils_no_other(hub):
    broken, first, last = Socket(fails=True), Socket(), Socket()
    for member in (first, broken, last):
        await hub.join("room", member)
    before = failures("member")

    await hub.layer.group_send("room", push_event("room", "<p>one</p>"))
    await hub.layer.group_send("room", push_event("room", "<p>two</p>"))
    await until(lambda: len(first.received) == len(last.received) == 2)
    assert first.received == last.received == ["<p>one</p>", "<p>two</p>"]
    assert failures("member") - before == 2
    # It missed those: it is asked to resume from its cursor.
    assert broken.interruptions == 2
    assert first.interruptions == last.interruptions == 0


async def test_a_reader_that_ends_is_restarted_and_every_member_resumes(hub):
    class Crash(BaseException):
        """Escapes the reader's handling of layer errors, as an unforeseen bug would."""

    crashed: list[str] = []

    class CrashingLayer(CountingLayer):
        async def receive(self, channel):
            if not crashed:
                crashed.append(channel)
                raise Crash
            return await super().receive(channel)

    hub.layer = CrashingLayer()
    member = Socket()
    before = failures("reader")
    await hub.join("room", member)
    await until(lambda: member.interruptions == 1)
    assert failures("reader") - before == 1
    assert hub.layer.adds == ["room", "room"]
    await hub.layer.group_send("room", push_event("room", "<p>after</p>"))
    await until(lambda: member.received)
    assert member.received == ["<p>after</p>"]


async def test_recovery_retries_until_every_group_is_back_before_members_resume(hub, monkeypatch):
    monkeypatch.setattr("realtime.hub.hub.RETRY_FIRST_DELAY", 0.01)
    room, lobby = Socket(), Socket()
    await hub.join("room", room)
    await hub.join("lobby", lobby)
    hub.layer.add_failures = {"lobby": 2}
    hub.layer.receive_failures = 1
    await hub.layer.group_send("room", push_event("room", "<p>wake the reader</p>"))

    await until(lambda: room.interruptions == 1)
    assert lobby.interruptions == 1
    # The lobby's add failed twice and was retried; the room was added each round too.
    assert hub.layer.adds[2:].count("lobby") == 3
    assert hub.layer.add_failures == {"lobby": 0}
    await hub.layer.group_send("room", push_event("room", "<p>room again</p>"))
    await hub.layer.group_send("lobby", push_event("lobby", "<p>lobby again</p>"))
    await until(lambda: room.received[-1:] == ["<p>room again</p>"])
    await until(lambda: lobby.received == ["<p>lobby again</p>"])


async def test_a_subscription_that_fails_is_retried_not_forgotten(hub, monkeypatch):
    monkeypatch.setattr("realtime.hub.hub.RETRY_FIRST_DELAY", 0.01)
    socket = Socket()
    await hub.join("room", socket)
    hub.layer.add_failures = {"room": 3}
    # The refresh and the recovery both subscribe this way: done only when all are back.
    await hub._subscribe_until_done("test")
    assert hub.layer.adds == ["room"] * 5
    assert hub.layer.add_failures == {"room": 0}


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


async def test_pushes_from_one_process_are_numbered_per_carrier(settings):
    settings.HUB_PERSON_CARRIERS = 64
    first, second, inbox, room = (
        push_event("user.1", "a"),
        push_event("user.65", "b"),
        leave_event("user.1.inbox", leave="room.1", html=""),
        push_event("room.1", "c"),
    )
    assert first["src"] == second["src"] == inbox["src"] == room["src"]
    assert (second["seq"], inbox["seq"]) == (first["seq"] + 1, first["seq"] + 2)
    # The room's carrier has its own count (where it stands depends on earlier tests): a push
    # to a person in between does not move it.
    push_event("user.1", "e")
    assert push_event("room.1", "d")["seq"] == room["seq"] + 1


class ShardedLayer(CountingLayer):
    """Two Redis hosts, as channels-redis places groups on them; one can restart empty."""

    ring_size = 2

    def consistent_hash(self, value: str) -> int:
        return int(_consistent_hash(value, self.ring_size))

    def lose_host(self, index: int) -> None:
        for group in [g for g in self.groups if self.consistent_hash(g) == index]:
            del self.groups[group]


async def test_there_is_a_probe_group_on_every_host():
    layer = ShardedLayer()
    names = probe_groups(layer)
    assert [layer.consistent_hash(name) for name in names] == [0, 1]
    assert len(probe_groups(InMemoryChannelLayer())) == 1


async def test_a_host_that_restarted_empty_is_found_by_its_probe(monkeypatch):
    monkeypatch.setattr("realtime.hub.probes.PROBE_IDLE", 0.02)
    layer = ShardedLayer()
    hub = Hub(layer, refresh_every=3600, probe_every=0.02, probe_deadline=0.02)
    socket = Socket()
    await hub.join("room", socket)
    await until(lambda: hub.prober.sent >= 2)
    assert socket.interruptions == 0

    # The host holding the room's group restarts empty; this process reads from the other
    # one, so no call fails: only the probe through the lost host does not come back.
    layer.lose_host(layer.consistent_hash("room"))
    await until(lambda: socket.interruptions == 1)
    await layer.group_send("room", push_event("room", "<p>live again</p>"))
    await until(lambda: socket.received == ["<p>live again</p>"])
    await hub.leave("room", socket)


async def test_lost_subscriptions_are_found_by_the_probe_and_restored(monkeypatch):
    monkeypatch.setattr("realtime.hub.probes.PROBE_IDLE", 0.02)
    hub = Hub(CountingLayer(), refresh_every=3600, probe_every=0.02, probe_deadline=0.02)
    socket = Socket()
    await hub.join("room", socket)
    await until(lambda: hub.prober.sent >= 2)
    assert socket.interruptions == 0  # probes come back while all is well
    before = metrics.HUB_PROBES_LOST._value.get()

    hub.layer.groups.clear()  # the layer forgot every subscription, and said nothing
    await until(lambda: socket.interruptions == 1)
    assert metrics.HUB_PROBES_LOST._value.get() - before == 1
    await hub.layer.group_send("room", push_event("room", "<p>live again</p>"))
    await until(lambda: socket.received == ["<p>live again</p>"])

    # Once nobody is left, the probe group goes too: nothing stays behind in the layer.
    [probe_group] = hub.prober.groups
    await hub.leave("room", socket)
    assert hub.layer.discards == ["room", probe_group]
    assert hub.layer.groups == {}
