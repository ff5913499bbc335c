"""realtime.hub.failures: what the hub does when a message, a member or the layer fails."""

import logging
from typing import Any

import pytest

from realtime import metrics
from realtime.hub.messages import BATCH, LEAVE, PUSH, batch_event, carrier, push_event
from tests.realtime.hub.doubles import CountingLayer, Socket
from tests.waiting import until

pytestmark = pytest.mark.asyncio


def failures(kind: str) -> float:
    return float(metrics.HUB_FAILURES.labels(kind=kind)._value.get())


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
    {"type": BATCH},
    {"type": BATCH, "messages": "not a list"},
    {"type": BATCH, "messages": {"a": 1}},
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
    # In a batch, each bad message (a batch inside it too) is one failure, and the rest arrive.
    inner: list[Any] = [
        *MALFORMED[:3],
        "not a dict",
        batch_event([push_event(group, "<p>nested</p>")]),
    ]
    batch = {"type": BATCH, "messages": [*inner, push_event(group, "<p>batched</p>")]}
    await hub.layer.group_send(carrier(group), batch)
    await hub.layer.group_send(carrier(group), push_event(group, "<p>still live</p>"))
    await until(lambda: len(member.received) == 3)

    assert member.received == ["<p>odd</p>", "<p>batched</p>", "<p>still live</p>"]
    assert member.interruptions == 0
    # Every bad message is counted; a valid one with a bad field among them is too.
    assert failures("message") - before == len(MALFORMED) + 1 + len(inner)
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
