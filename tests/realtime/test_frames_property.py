"""Random frames thrown at the page socket: it never crashes, never closes, and answers; and
whatever was thrown, a person's sockets give back everything once they close.

Hypothesis generates anything a client could send: text that is not JSON, JSON that is not an
object, objects with every kind of value in every field (huge integers, NaN, nested lists,
NUL characters, very long bodies) and binary frames. After each frame a probe follows; the
probe's answer arriving proves the socket is still up and in order.
"""

import json
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat.logic import room_space
from realtime import budgets
from realtime.hub.hub import get_hub
from realtime.presence import get_presence
from realtime.routing import websocket_urlpatterns
from realtime.sockets import opening

router = URLRouter(websocket_urlpatterns)

ACTIONS = ["chat.send", "chat.resume", "", "chat", "CHAT.SEND", "__class__", "receive"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)
frame_objects = st.fixed_dictionaries(
    {"action": st.sampled_from(ACTIONS) | st.text(max_size=20) | json_values},
    optional={
        "body": json_values | st.text(min_size=1, max_size=6000),
        "client_id": json_values | st.uuids().map(str),
        "after": json_values | st.integers(min_value=-1, max_value=2**70).map(str),
        "HEADERS": json_values,
    },
)
# What used to crash the consumer or the log: deep nesting, lone surrogates and NULs (as JSON
# escapes, as a hostile client sends them), and frames larger than any a page sends.
hostile = st.one_of(
    st.integers(min_value=17, max_value=30_000).map(lambda n: "[" * n + "]" * n),
    st.integers(min_value=17, max_value=5_000).map(
        lambda n: '{"action": "chat.send", "body": ' + "[" * n + "]" * n + "}"
    ),
    st.sampled_from(["\\ud800", "\\udfff", "\\u0000", "a\\u0000b", "\\ud83d"]).map(
        lambda text: f'{{"action": "{text}", "body": "{text}"}}'
    ),
    st.sampled_from(["chat.send", "chat.resume", "chat.read", "tasks.refresh"]).map(
        lambda action: json.dumps({"action": action, "body": "x" * 70_000})
    ),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40).map(
        lambda text: json.dumps({"action": text})
    ),
)
frames = st.one_of(
    frame_objects.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=200),
    st.binary(max_size=200),
    hostile,
)


async def answers_until(socket: WebsocketCommunicator, marker: str) -> list[str]:
    """Every frame the socket sends up to and including the one containing `marker`."""
    received = []
    while True:
        message = await socket.receive_output(timeout=5)
        assert message["type"] == "websocket.send", f"the socket closed: {message}"
        received.append(message["text"])
        if marker in message["text"]:
            return received


async def throw(user, thrown: list[str | bytes]) -> None:
    # One user reconnects for every example: not what the attempt and action limits are for.
    opening.connection_attempts.clear()
    budgets.action_budgets.clear()
    socket = WebsocketCommunicator(router, "/ws/?room=general")
    socket.scope["user"] = user
    connected, _ = await socket.connect()
    assert connected
    probe = f"probe-{uuid.uuid4().hex}"
    await answers_until(socket, 'id="bell"')
    for frame in thrown:
        # send_input rather than send_to, which refuses empty frames a client may still send.
        key = "bytes" if isinstance(frame, bytes) else "text"
        await socket.send_input({"type": "websocket.receive", key: frame})
        await socket.send_to(text_data=json.dumps({"action": probe}))
        # receive_output re-raises anything the consumer raised.
        for answer in await answers_until(socket, probe):
            assert 'id="' in answer, f"not a fragment the page can swap: {answer[:200]!r}"
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(thrown=st.lists(frames, min_size=1, max_size=4))
def test_random_frames_never_crash_or_close_the_socket(ada, room, thrown):
    async_to_sync(throw)(ada, thrown)


# Real pages of every kind, each with presence (`path`).
PAGES = [
    "/ws/?room=general&path=%2Frooms%2Fgeneral%2F",
    "/ws/?page=rooms&path=%2Frooms%2F",
    "/ws/?page=inbox&path=%2Fnotifications%2F",
    "/ws/?path=%2F",
]


async def throw_from_tabs(user, room, tabs: list[tuple[str, list[str | bytes]]]) -> None:
    opening.connection_attempts.clear()
    budgets.action_budgets.clear()
    opened = []
    for path, thrown in tabs:
        socket = WebsocketCommunicator(router, path)
        socket.scope["user"] = user
        connected, _ = await socket.connect()
        assert connected
        opened.append((socket, thrown))
    for socket, thrown in opened:
        for frame in thrown:
            key = "bytes" if isinstance(frame, bytes) else "text"
            await socket.send_input({"type": "websocket.receive", key: frame})
    assert opening.open_sockets[user.pk] == len(tabs)
    for socket, _ in opened:
        # Frames already sent are handled before the disconnect: allow for the database.
        await socket.disconnect(timeout=10)

    assert opening.open_sockets[user.pk] == 0
    assert len(opening.open_sockets) == 0
    hub = get_hub()
    assert (hub.members, hub.carriers) == ({}, {})
    presence = get_presence()
    assert presence.local == {}
    assert await presence.members(room_space(room.id)) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tabs=st.lists(
        st.tuples(st.sampled_from(PAGES), st.lists(frames, max_size=6)), min_size=1, max_size=4
    )
)
def test_after_any_frames_closed_sockets_leave_nothing_behind(ada, room, tabs):
    async_to_sync(throw_from_tabs)(ada, room, tabs)
