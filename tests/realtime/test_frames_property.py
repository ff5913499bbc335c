"""Random frames thrown at the page socket: it never crashes, never closes, and answers.

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

from realtime import sockets
from realtime.routing import websocket_urlpatterns

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
frames = st.one_of(
    frame_objects.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=200),
    st.binary(max_size=200),
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
    sockets.connection_attempts.clear()
    sockets.action_budgets.clear()
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
