"""realtime.hub.messages: which carrier takes a group, and how pushes are numbered."""

import pytest

from realtime.hub.messages import carrier, leave_event, push_event, runs_of_pushes

pytestmark = pytest.mark.asyncio


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


def pushed(group, html):
    return {"type": "html.push", "group": group, "html": html}


@pytest.mark.parametrize(
    ("batch", "runs"),
    [
        ([], []),
        (["a@r", "b@r", "c@r"], [["a@r", "b@r", "c@r"]]),
        (["a@r", "b@s", "c@r"], [["a@r"], ["b@s"], ["c@r"]]),
        (["a@r", "leave", "b@r", "c@r"], [["a@r"], ["leave"], ["b@r", "c@r"]]),
        (["junk", "junk", "a@r"], [["junk"], ["junk"], ["a@r"]]),
    ],
)
async def test_a_batch_is_cut_into_runs_of_pushes_for_one_group(batch, runs):
    def message(name):
        if name == "leave":
            return leave_event("user.1", leave="r", html="")
        if name == "junk":
            return "not a message"
        html, _, group = name.partition("@")
        return pushed(group, html)

    def name(message):
        if not isinstance(message, dict):
            return "junk"
        return (
            "leave" if message["type"] != "html.push" else f"{message['html']}@{message['group']}"
        )

    assert [[name(m) for m in run] for run in runs_of_pushes([message(n) for n in batch])] == runs
