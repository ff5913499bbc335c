import json
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from chat.models import Message
from realtime.routing import websocket_urlpatterns
from realtime.sockets.closes import CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED
from tests.frames import handled_so_far, pushed_so_far

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_connections"),
]

router = URLRouter(websocket_urlpatterns)


async def connect(user, path="/ws/?room=general"):
    communicator = WebsocketCommunicator(router, path)
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    # Every socket starts with the current notification badge (catch-up after a reconnect).
    assert 'id="bell"' in await communicator.receive_from()
    return communicator


def send_frame(body, client_id=None, action="chat.send"):
    frame = {"action": action, "body": body, "HEADERS": {"HX-Request": "true"}}
    if client_id is not None:
        frame["client_id"] = str(client_id)
    return json.dumps(frame)


async def test_a_message_reaches_the_other_member_and_the_sender(ada, grace, room):
    sender = await connect(ada)
    listener = await connect(grace)

    await sender.send_to(text_data=send_frame("hello <there>", uuid.uuid4()))

    pushed = await listener.receive_from()
    message = await database_sync_to_async(Message.objects.get)()
    assert f'<article id="message-{message.id}"' in pushed
    assert "hello &lt;there&gt;" in pushed
    assert 'hx-swap-oob="beforeend:#messages"' in pushed
    # The sender gets the message too, and its composer error is cleared.
    replies = {await sender.receive_from(), await sender.receive_from()}
    assert pushed in replies
    assert any('id="composer-error"' in reply for reply in replies)

    await sender.disconnect()
    await listener.disconnect()


async def test_another_room_hears_nothing(ada, grace, room, other_room):
    sender = await connect(ada)
    elsewhere = await connect(grace, "/ws/?room=random")

    await sender.send_to(text_data=send_frame("only for general"))
    await handled_so_far(sender)
    assert await pushed_so_far(elsewhere, grace.pk) == []

    await sender.disconnect()
    await elsewhere.disconnect()


async def test_pages_without_a_room_do_not_get_room_messages(ada, grace, room):
    sender = await connect(ada)
    lobby = await connect(grace, "/ws/")

    await sender.send_to(text_data=send_frame("hi"))
    await handled_so_far(sender)
    assert await pushed_so_far(lobby, grace.pk) == []
    # ... and cannot post, since the page has no room.
    await lobby.send_to(text_data=send_frame("sneaky"))
    assert "Unknown action" in await lobby.receive_from()
    assert await database_sync_to_async(Message.objects.count)() == 1

    await sender.disconnect()
    await lobby.disconnect()


async def test_anonymous_socket_is_refused(room):
    from django.contrib.auth.models import AnonymousUser

    communicator = WebsocketCommunicator(router, "/ws/?room=general")
    communicator.scope["user"] = AnonymousUser()
    connected, _ = await communicator.connect()
    assert connected  # accepted only to tell the page why it is closed
    closed = await communicator.receive_output()
    assert closed == {
        "type": "websocket.close",
        "code": CLOSE_UNAUTHENTICATED,
        "reason": "Sign in to connect.",
    }


async def test_unknown_room_is_refused(ada):
    communicator = WebsocketCommunicator(router, "/ws/?room=nowhere")
    communicator.scope["user"] = ada
    await communicator.connect()
    closed = await communicator.receive_output()
    assert closed["type"] == "websocket.close"
    assert closed["code"] == CLOSE_NOT_FOUND


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("   ", "Type a message first."),
        ("\u200b\u200d", "Type a message first."),
        ("x" * 4001, "the limit is 4,000"),
    ],
)
async def test_refused_messages_come_back_to_the_composer(ada, grace, room, body, error):
    sender = await connect(ada)
    listener = await connect(grace)

    await sender.send_to(text_data=send_frame(body))
    reply = await sender.receive_from()
    assert error in reply
    assert 'id="composer-error"' in reply
    # The text is put back in the box so nothing typed is lost.
    assert '<textarea id="composer-body"' in reply
    assert body.strip() in reply
    assert await pushed_so_far(listener, grace.pk) == []
    assert await database_sync_to_async(Message.objects.count)() == 0

    await sender.disconnect()
    await listener.disconnect()


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ("{broken", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"body": "x"}', "needs an “action” field"),
        ('{"action": "chat.explode"}', "Unknown action"),
    ],
)
async def test_malformed_frames_get_an_error_and_the_socket_stays_up(ada, room, frame, error):
    sender = await connect(ada)
    await sender.send_to(text_data=frame)
    assert error in await sender.receive_from()
    # Still usable afterwards.
    await sender.send_to(text_data=send_frame("still here"))
    replies = [await sender.receive_from(), await sender.receive_from()]
    assert any("still here" in reply for reply in replies)
    await sender.disconnect()


async def test_binary_frames_get_an_error(ada, room):
    sender = await connect(ada)
    await sender.send_to(bytes_data=b"\x00\x01")
    assert "Binary frames are not supported." in await sender.receive_from()
    await sender.disconnect()


async def test_a_retried_send_is_saved_once_and_pushed_again(ada, grace, room):
    sender = await connect(ada)
    listener = await connect(grace)
    client_id = uuid.uuid4()

    await sender.send_to(text_data=send_frame("once", client_id))
    await sender.send_to(text_data=send_frame("once", client_id))

    # The retry may come because the first push never left (its server stopped as the
    # message committed): the room is sent the message again, and the page shows its id once.
    first = await listener.receive_from()
    again = await listener.receive_from()
    message = await database_sync_to_async(Message.objects.get)()
    assert f'id="message-{message.id}"' in first
    assert again == first
    await handled_so_far(sender)
    assert await pushed_so_far(listener, grace.pk) == []

    await sender.disconnect()
    await listener.disconnect()


async def test_new_rooms_appear_on_every_chat_page(ada, grace, room):
    from chat.actions import rooms as room_actions

    lobby = await connect(grace, "/ws/")
    await database_sync_to_async(room_actions.room_create)(
        name="Design", slug="design", created_by=ada
    )
    pushed = await lobby.receive_from()
    assert 'hx-swap-oob="beforeend:#room-list"' in pushed
    assert "Design" in pushed
    await lobby.disconnect()


def resume_frame(after):
    return json.dumps({"action": "chat.resume", "after": after})


async def test_resume_replays_what_the_page_missed_in_order(ada, grace, room, settings):
    def post(body):
        return Message.objects.create(room=room, author=ada, body=body)

    seen = await database_sync_to_async(post)("seen")
    missed = [await database_sync_to_async(post)(f"missed {i}") for i in range(3)]
    tab = await connect(grace)

    await tab.send_to(text_data=resume_frame(seen.id))
    replay = await tab.receive_from()
    assert f'id="message-{seen.id}"' not in replay
    positions = [replay.index(f'id="message-{message.id}"') for message in missed]
    assert positions == sorted(positions)
    assert replay.count('hx-swap-oob="beforeend:#messages"') == 3

    # Nothing missed: nothing sent.
    await tab.send_to(text_data=resume_frame(missed[-1].id))
    assert await handled_so_far(tab) == []
    await tab.disconnect()


async def test_resume_fills_a_hole_among_the_messages_the_page_shows(ada, grace, room):
    # The push of `lost` went astray, and a newer message (from another server) arrived
    # first: the page's cursor is past `lost`, and only the ids it shows tell what it lacks.
    def post(body):
        return Message.objects.create(room=room, author=ada, body=body)

    first, lost, newer = [await database_sync_to_async(post)(body) for body in "abc"]
    tab = await connect(grace)
    frame = {"action": "chat.resume", "after": newer.id, "have": [newer.id, first.id]}

    await tab.send_to(text_data=json.dumps(frame))
    replay = await tab.receive_from()
    assert replay.count("<article") == 1
    assert f'id="message-{lost.id}"' in replay

    # Without the ids it shows, the cursor alone cannot tell.
    await tab.send_to(text_data=resume_frame(newer.id))
    assert await handled_so_far(tab) == []
    await tab.disconnect()


@pytest.mark.parametrize("have", ["1,2", [1, "x"], [True], list(range(51))])
async def test_resume_refuses_a_malformed_list_of_shown_ids(grace, room, have):
    tab = await connect(grace)
    await tab.send_to(text_data=json.dumps({"action": "chat.resume", "after": 0, "have": have}))
    assert "“have” must be" in await tab.receive_from()
    await tab.disconnect()


async def test_a_gap_too_large_refreshes_the_conversation(ada, grace, room, settings):
    settings.CHAT_RESUME_LIMIT = 2
    for i in range(3):
        await database_sync_to_async(Message.objects.create)(room=room, author=ada, body=f"m{i}")
    tab = await connect(grace)
    await tab.send_to(text_data=resume_frame(0))
    refreshed = await tab.receive_from()
    assert '<div id="history" class="history" hx-swap-oob="true">' in refreshed
    assert '<div id="messages"' in refreshed
    assert refreshed.count("<article") == 3
    await tab.disconnect()


@pytest.mark.parametrize("after", ["abc", -1, None, True, [1]])
async def test_resume_needs_a_message_id(grace, room, after):
    tab = await connect(grace)
    await tab.send_to(text_data=resume_frame(after))
    assert "“after” must be a message id." in await tab.receive_from()
    await tab.disconnect()


async def test_the_acknowledgement_names_the_send(ada, room):
    tab = await connect(ada)
    client_id = uuid.uuid4()
    await tab.send_to(text_data=send_frame("hello", client_id))
    replies = [await tab.receive_from(), await tab.receive_from()]
    assert any(f'data-answered="{client_id}"' in reply for reply in replies)
    await tab.disconnect()


async def test_a_flood_is_told_to_slow_down_and_loses_nothing(ada, grace, room, settings):
    settings.CHAT_SEND_BURST = 2
    settings.CHAT_SEND_RATE = 0.001
    flooder = await connect(ada)
    other = await connect(grace)

    for i in range(3):
        await flooder.send_to(text_data=send_frame(f"flood {i}", uuid.uuid4()))
    replies = [await flooder.receive_from() for _ in range(5)]
    refused = [r for r in replies if "too fast" in r]
    assert len(refused) == 1
    assert "flood 2</textarea>" in refused[0]  # the text goes back into the box
    assert await database_sync_to_async(Message.objects.count)() == 2

    # Someone else is not affected.
    await other.send_to(text_data=send_frame("calm", uuid.uuid4()))
    seen = [await other.receive_from() for _ in range(4)]
    assert any("calm" in frame and "<article" in frame for frame in seen)
    await flooder.disconnect()
    await other.disconnect()
