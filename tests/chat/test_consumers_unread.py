"""chat.consumers.UnreadPart: reading a room moves its count on every tab of the reader; room
lists get the counts on connect and the activity of the rooms they follow."""

import json

import pytest
from channels.db import database_sync_to_async

from chat.models import Message, ReadCursor
from chat.queries import rooms as room_queries
from tests.chat.test_consumers import connect, send_frame
from tests.frames import handled_so_far, pushed_so_far

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_connections"),
]


def read_frame(room_id, up_to):
    return json.dumps({"action": "chat.read", "room": room_id, "up_to": up_to})


async def test_reading_in_one_tab_clears_the_count_in_the_others(ada, grace, room, other_room):
    def post(count):
        return [Message.objects.create(room=room, author=grace, body=f"m{i}") for i in range(count)]

    messages = await database_sync_to_async(post)(3)
    reading = await connect(ada)  # on #general
    elsewhere = await connect(ada, "/ws/?room=random")
    lobby = await connect(ada, "/ws/?page=rooms")
    someone_else = await connect(grace, "/ws/?page=rooms")

    await reading.send_to(text_data=read_frame(room.id, messages[-1].id))

    for tab in (reading, elsewhere, lobby):
        badge = await tab.receive_from()
        assert f'id="unread-{room.id}"' in badge
        assert f'data-read="{messages[-1].id}"' in badge
        assert 'data-count="0"' in badge
        assert " hidden" in badge
    # Other people's tabs hear nothing of ada's reading.
    await handled_so_far(reading)
    assert await pushed_so_far(someone_else, grace.pk) == []
    # Reading the same again changes nothing and sends nothing.
    await reading.send_to(text_data=read_frame(room.id, messages[0].id))
    assert await handled_so_far(reading) == []
    assert await pushed_so_far(lobby, ada.pk) == []
    for tab in (reading, elsewhere, lobby, someone_else):
        await tab.disconnect()


async def test_the_counts_of_followed_rooms_arrive_on_connect(ada, grace, room, other_room):
    def follow_and_post():
        ReadCursor.objects.create(user=ada, room=other_room, last_read_id=0)
        Message.objects.create(room=other_room, author=grace, body="x")

    await database_sync_to_async(follow_and_post)()
    tab = await connect(ada, "/ws/?page=rooms")
    counts = await tab.receive_from()
    assert f'<span id="unread-{other_room.id}" class="unread" data-read="0"' in counts
    assert 'data-count="1"' in counts
    assert f'id="unread-{room.id}"' not in counts  # never opened: no count to keep
    await tab.disconnect()


async def test_a_message_reaches_its_followers_room_lists_as_activity_only(
    ada, grace, make_user, room, other_room
):
    await database_sync_to_async(ReadCursor.objects.create)(user=grace, room=room)
    sender = await connect(ada)
    follower = await connect(grace, "/ws/?page=rooms")
    assert f'id="unread-{room.id}"' in await follower.receive_from()  # the counts on connect
    linus = await database_sync_to_async(make_user)("linus")
    never_opened_it = await connect(linus, "/ws/?page=rooms")
    inbox = await connect(grace, "/ws/?page=inbox")  # no room list: no activity

    await sender.send_to(text_data=send_frame("psst"))
    activity = await follower.receive_from()
    message = await database_sync_to_async(Message.objects.get)()
    assert activity == (
        f'<span id="room-activity-{room.id}" class="room-activity" data-room="{room.id}" '
        f'data-newest="{message.id}" data-author="{ada.id}" hidden hx-swap-oob="true"></span>'
    )
    await handled_so_far(sender)
    assert await pushed_so_far(never_opened_it, linus.pk) == []
    assert await pushed_so_far(inbox, grace.pk) == []
    for tab in (sender, follower, never_opened_it, inbox):
        await tab.disconnect()


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ({"up_to": 1}, "“room” must be a room id."),
        ({"room": "x", "up_to": 1}, "“room” must be a room id."),
        ({"room": 1}, "“up_to” must be a message id."),
        ({"room": 1, "up_to": -5}, "“up_to” must be a message id."),
        ({"room": 999, "up_to": 1}, "No such room."),
    ],
)
async def test_bad_read_frames_get_an_error(ada, room, frame, error):
    tab = await connect(ada)
    await tab.send_to(text_data=json.dumps({"action": "chat.read", **frame}))
    reply = await tab.receive_from()
    assert 'id="socket-error"' in reply
    assert error in reply
    await tab.disconnect()


async def test_reading_a_room_one_cannot_read_is_refused(ada, grace, room, monkeypatch):

    from chat.models import Room

    message = await database_sync_to_async(Message.objects.create)(
        room=room, author=grace, body="x"
    )
    tab = await connect(ada)
    monkeypatch.setattr(room_queries, "rooms_readable_by", lambda *, user: Room.objects.none())
    await tab.send_to(text_data=read_frame(room.id, message.id))
    assert "No such room." in await tab.receive_from()
    assert not await database_sync_to_async(ReadCursor.objects.exists)()
    await tab.disconnect()


async def test_pages_without_a_room_cannot_report_reading(ada, room):
    lobby = await connect(ada, "/ws/?page=rooms")
    await lobby.send_to(text_data=read_frame(room.id, 1))
    assert "Unknown action" in await lobby.receive_from()
    await lobby.disconnect()
