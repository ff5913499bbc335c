import json

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from realtime.heartbeat import ping_sequence, pong_html
from realtime.routing import websocket_urlpatterns


@pytest.mark.parametrize(
    ("frame", "sequence"),
    [
        ({"action": "ping", "seq": 7}, 7),
        ({"action": "ping"}, 0),
        ({"action": "ping", "seq": "7"}, 0),
        ({"action": "ping", "seq": True}, 0),
        ({"action": "ping", "seq": -1}, 0),
        ({"action": "ping", "seq": 2**31}, 0),
    ],
)
def test_ping_sequence(frame, sequence):
    assert ping_sequence(frame) == sequence


def test_pong_is_a_hidden_element_swapped_by_id():
    assert pong_html(3) == '<span id="heartbeat" data-seq="3" hidden hx-swap-oob="true"></span>'


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
async def test_a_page_socket_answers_a_ping_at_once(ada, room):
    socket = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/?room=general")
    socket.scope["user"] = ada
    connected, _ = await socket.connect()
    assert connected
    assert 'id="bell"' in await socket.receive_from()  # the badge every socket starts with

    await socket.send_to(text_data=json.dumps({"action": "ping", "seq": 41}))

    assert await socket.receive_from() == pong_html(41)
    await socket.disconnect()
