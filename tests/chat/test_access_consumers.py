"""The page socket and private rooms, blocking, edits and deletes."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from accounts import actions as people_actions
from chat.actions import messages as message_actions
from chat.actions import rooms as room_actions
from chat.logic import room_group_name
from chat.models import Membership, Message, ReadCursor
from chat.queries import unread as unread_queries
from realtime.groups import user_group_name
from realtime.hub.hub import get_hub
from realtime.hub.messages import leave_event, push_event
from realtime.routing import websocket_urlpatterns
from realtime.sockets.closes import CLOSE_NOT_FOUND
from tests.frames import handled_so_far, pushed_so_far

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_connections"),
]

router = URLRouter(websocket_urlpatterns)


async def connect(user, path="/ws/?room=secret", *, counts=True):
    communicator = WebsocketCommunicator(router, path)
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    assert 'id="bell"' in await communicator.receive_from()
    # A room list's counts follow, if its viewer belongs to a private room (or follows one);
    # with counts=False the test reads them itself.
    if counts and ("room=" in path or "page=rooms" in path) and await followed_rooms(user):
        assert 'class="unread"' in await communicator.receive_from()
    return communicator


@database_sync_to_async
def followed_rooms(user):
    return unread_queries.unread_states_for(user=user)


async def refusal(user, path):
    communicator = WebsocketCommunicator(router, path)
    communicator.scope["user"] = user
    await communicator.connect()
    closed = await communicator.receive_output()
    await communicator.disconnect()  # the browser's side of the close: the consumer ends
    return closed


def send_frame(body):
    return json.dumps({"action": "chat.send", "body": body})


def resume_frame(after, changes_after=None):
    frame = {"action": "chat.resume", "after": after}
    if changes_after is not None:
        frame["changes_after"] = changes_after
    return json.dumps(frame)


async def post(room, author, body):
    return await database_sync_to_async(message_actions.message_post)(
        room=room, author=author, body=body, client_id=None
    )


async def test_a_non_member_is_refused_exactly_like_a_missing_room(linus, secret):
    hidden = await refusal(linus, "/ws/?room=secret")
    missing = await refusal(linus, "/ws/?room=no-such-room")
    assert (
        hidden
        == missing
        == {"type": "websocket.close", "code": CLOSE_NOT_FOUND, "reason": "No such room."}
    )


async def test_members_talk_and_nobody_else_hears(ada, grace, linus, secret, room):
    sender = await connect(ada)
    member = await connect(grace)
    lobby = await connect(linus, "/ws/")
    elsewhere = await connect(linus, "/ws/?room=general")

    await sender.send_to(text_data=send_frame("just us"))
    assert "just us" in await member.receive_from()
    await handled_so_far(sender)
    assert await pushed_so_far(lobby, linus.pk) == []
    assert await pushed_so_far(elsewhere, linus.pk) == []
    for socket in (sender, member, lobby, elsewhere):
        await socket.disconnect()


async def test_a_removed_member_stops_receiving_at_once(ada, grace, secret):
    sender = await connect(ada)
    removed = await connect(grace)

    await database_sync_to_async(room_actions.membership_end)(room=secret, member=grace, by=ada)
    frames = [await removed.receive_from(), await removed.receive_from()]
    assert any("You are no longer a member of #Secret." in frame for frame in frames)
    assert any('hx-swap-oob="delete"' in frame for frame in frames)

    await post(secret, ada, "after she left")
    assert await pushed_so_far(removed, grace.pk) == []
    # ... and the socket can neither post nor replay the room any more.
    await removed.send_to(text_data=send_frame("still here?"))
    assert "not a member of this room any more" in await removed.receive_from()
    await removed.send_to(text_data=resume_frame(0))
    assert "You are no longer a member" in await removed.receive_from()
    assert await handled_so_far(removed) == []
    assert not await database_sync_to_async(Message.objects.filter(body="still here?").exists)()
    await sender.disconnect()
    await removed.disconnect()


async def test_a_push_right_behind_a_removal_does_not_reach_the_removed_member(ada, grace, secret):
    # The hub hands the leave and the next push of the room over in one go (as when they
    # arrive together): the socket is out of the room's members before the push is handed.
    removed = await connect(grace)
    hub = get_hub()
    room = room_group_name(secret.id)
    hub.deliver(leave_event(user_group_name(grace.pk), leave=room, html="<p>removed</p>"))
    hub.deliver(push_event(room, '<p id="after">after she left</p>'))
    frames = await pushed_so_far(removed, grace.pk)
    assert frames == ["<p>removed</p>"]
    await removed.disconnect()


async def test_a_tab_elsewhere_of_the_removed_member_is_only_told_of_the_sidebar(
    ada, grace, secret, room
):
    elsewhere = await connect(grace, "/ws/?room=general")
    await database_sync_to_async(room_actions.membership_end)(room=secret, member=grace, by=ada)
    frame = await elsewhere.receive_from()
    assert 'hx-swap-oob="delete"' in frame
    assert await pushed_so_far(elsewhere, grace.pk) == []
    await elsewhere.disconnect()


async def test_a_private_rooms_activity_reaches_only_its_members_room_lists(
    ada, grace, linus, secret
):
    def follow():
        # linus kept a cursor from when he was a member: it must not let him hear the room.
        for user in (grace, linus):
            ReadCursor.objects.create(user=user, room=secret, last_read_id=0)

    await database_sync_to_async(follow)()
    member = await connect(grace, "/ws/?page=rooms", counts=False)
    assert f'id="unread-{secret.id}"' in await member.receive_from()  # the counts on connect
    outsider = await connect(linus, "/ws/?page=rooms")
    assert await handled_so_far(outsider) == []  # no count for a room he cannot read

    message = await post(secret, ada, "members only")
    activity = await member.receive_from()
    assert f'id="room-activity-{secret.id}"' in activity
    assert f'data-newest="{message.id}"' in activity
    assert await pushed_so_far(outsider, linus.pk) == []
    await member.disconnect()
    await outsider.disconnect()


async def test_a_removed_member_stops_hearing_the_rooms_activity(ada, grace, secret, room):
    await database_sync_to_async(ReadCursor.objects.create)(user=grace, room=secret)
    rooms = await connect(grace, "/ws/?page=rooms", counts=False)
    assert f'id="unread-{secret.id}"' in await rooms.receive_from()
    elsewhere = await connect(grace, "/ws/?room=general", counts=False)
    assert f'id="unread-{secret.id}"' in await elsewhere.receive_from()

    await database_sync_to_async(room_actions.membership_end)(room=secret, member=grace, by=ada)
    for tab in (rooms, elsewhere):
        assert 'hx-swap-oob="delete"' in await tab.receive_from()  # the sidebar link goes
        assert await pushed_so_far(tab, grace.pk) == []  # leaving the activity says nothing

    await post(secret, ada, "after she left")
    for tab in (rooms, elsewhere):
        assert await pushed_so_far(tab, grace.pk) == []
        await tab.disconnect()


async def test_a_room_list_joined_as_access_ends_drops_the_room_when_ready(
    ada, grace, secret, monkeypatch
):
    """Access may end between choosing the groups and the socket being open: the push that
    makes it leave could not reach it, so the part checks again once it is open."""
    from chat import consumers

    await database_sync_to_async(ReadCursor.objects.create)(user=grace, room=secret)
    chosen = consumers.followed_room_ids

    def followed_then_removed(user, *, shown):
        ids = chosen(user, shown=shown)
        Membership.objects.filter(room=secret, user=grace).delete()
        return ids

    monkeypatch.setattr(consumers, "followed_room_ids", followed_then_removed)
    tab = await connect(grace, "/ws/?page=rooms")
    assert await handled_so_far(tab) == []  # ready: no count for the room
    await post(secret, ada, "after she left")
    assert await pushed_so_far(tab, grace.pk) == []
    await tab.disconnect()


async def test_an_invitee_who_accepts_receives_the_room(ada, grace, linus, secret):
    invitation = await database_sync_to_async(room_actions.invitation_create)(
        room=secret, inviter=ada, invitee=linus
    )
    tab = await connect(linus, "/ws/?page=rooms")
    await database_sync_to_async(room_actions.invitation_accept)(invitation=invitation, user=linus)
    assert f'id="room-link-{secret.id}"' in await tab.receive_from()
    await tab.disconnect()

    inside = await connect(linus)
    await post(secret, ada, "welcome, linus")
    assert "welcome, linus" in await inside.receive_from()
    await inside.disconnect()


async def test_blocking_hides_the_author_on_every_tab_and_in_replays(ada, grace, room):
    tab = await connect(ada, "/ws/?room=general")
    other_tab = await connect(ada, "/ws/")
    await database_sync_to_async(people_actions.block)(blocker=ada, blocked=grace)
    rules = f'.message[data-author="{grace.pk}"]{{display:none}}'
    assert rules in await tab.receive_from()
    assert rules in await other_tab.receive_from()

    # Live messages are the same for everyone (the page's rules hide them) ...
    before = await post(room, ada, "mine")
    await tab.receive_from()
    hidden = await post(room, grace, "from grace")
    assert f'data-author="{grace.pk}"' in await tab.receive_from()
    # ... but a replay after reconnecting leaves them out on the server.
    await tab.send_to(text_data=resume_frame(before.id - 1))
    replay = await tab.receive_from()
    assert f'id="message-{before.id}"' in replay
    assert f'id="message-{hidden.id}"' not in replay
    await tab.disconnect()
    await other_tab.disconnect()


async def test_edits_and_deletes_reach_everyone_in_the_room(ada, grace, room):
    author = await connect(ada, "/ws/?room=general")
    reader = await connect(grace, "/ws/?room=general")
    message = await post(room, ada, "helo")
    await author.receive_from()
    await reader.receive_from()

    await database_sync_to_async(message_actions.message_edit)(
        message=message, editor=ada, body="hello"
    )
    edited = await reader.receive_from()
    assert f'<article id="message-{message.id}"' in edited
    assert "hello" in edited
    assert "(edited)" in edited
    assert edited == await author.receive_from()

    await database_sync_to_async(message_actions.message_delete)(message=message, deleter=ada)
    deleted = await reader.receive_from()
    assert "This message was deleted." in deleted
    assert "hello" not in deleted
    assert await pushed_so_far(reader, grace.pk) == []
    await author.disconnect()
    await reader.disconnect()


async def test_edits_and_deletes_missed_while_offline_arrive_once_after_reconnecting(
    ada, grace, room
):
    kept = await post(room, ada, "stays")
    edited = await post(room, ada, "first draft")
    deleted = await post(room, ada, "regret")
    tab = await connect(grace, "/ws/?room=general")
    await tab.send_to(text_data=resume_frame(deleted.id, 0))
    assert await handled_so_far(tab) == []  # nothing missed yet
    await tab.disconnect()

    # Offline: an edit (twice), a delete and a new message.
    await database_sync_to_async(message_actions.message_edit)(
        message=edited, editor=ada, body="second"
    )
    await database_sync_to_async(message_actions.message_edit)(
        message=edited, editor=ada, body="final"
    )
    await database_sync_to_async(message_actions.message_delete)(message=deleted, deleter=ada)
    newer = await post(room, ada, "new one")
    await database_sync_to_async(message_actions.message_edit)(
        message=newer, editor=ada, body="new, edited"
    )

    tab = await connect(grace, "/ws/?room=general")
    await tab.send_to(text_data=resume_frame(deleted.id, 0))
    replay = await tab.receive_from()
    assert await handled_so_far(tab) == []  # one frame, once
    # The new message whole, as it is now; then each changed message once, in change order.
    assert replay.count(f'id="message-{newer.id}"') == 1
    assert "new, edited" in replay
    assert replay.count(f'id="message-{edited.id}"') == 1
    assert replay.count(f'id="message-{deleted.id}"') == 1
    assert replay.index(f'id="message-{edited.id}"') < replay.index(f'id="message-{deleted.id}"')
    assert "final" in replay
    assert "second" not in replay
    assert "regret" not in replay
    assert f'id="message-{kept.id}"' not in replay
    cursor = int(replay.split('id="change-cursor" data-after="')[1].split('"')[0])

    # Resuming from the new cursors sends nothing again.
    await tab.send_to(text_data=resume_frame(newer.id, cursor))
    assert await handled_so_far(tab) == []
    await tab.disconnect()


async def test_too_many_missed_changes_refresh_the_conversation(ada, grace, room, settings):
    settings.CHAT_RESUME_LIMIT = 2
    message = await post(room, ada, "v0")
    for version in range(1, 4):
        await database_sync_to_async(message_actions.message_edit)(
            message=message, editor=ada, body=f"v{version}"
        )
    tab = await connect(grace, "/ws/?room=general")
    await tab.send_to(text_data=resume_frame(message.id, 0))
    refreshed = await tab.receive_from()
    assert '<div id="history" class="history" hx-swap-oob="true">' in refreshed
    assert "v3" in refreshed
    assert 'id="change-cursor"' in refreshed
    await tab.disconnect()


@pytest.mark.parametrize("changes_after", ["abc", -1, True, [1]])
async def test_resume_needs_a_change_id(grace, room, changes_after):
    tab = await connect(grace, "/ws/?room=general")
    await tab.send_to(text_data=resume_frame(0, changes_after))
    assert "“changes_after” must be an id." in await tab.receive_from()
    await tab.disconnect()


async def test_a_first_direct_message_reaches_every_tab_of_the_recipient(ada, grace, room):
    """Tabs opened before the conversation existed: each gets the sidebar link, then the
    message's signal (which the page counts) and one toast with the bell."""
    tabs = [
        await connect(grace, "/ws/?page=rooms"),
        await connect(grace, "/ws/?room=general"),
    ]
    no_room_list = await connect(grace, "/ws/")  # e.g. the notifications page
    dm = await database_sync_to_async(room_actions.direct_open)(user=ada, other=grace)
    for tab in tabs:
        assert f'id="room-link-{dm.id}"' in await tab.receive_from()

    message = await post(dm, ada, "hello grace")
    # Only the toast and the bell where there is no room list to add the link or count to.
    only = await no_room_list.receive_from()
    assert 'data-verb="direct"' in only
    assert "room-link" not in only
    assert await pushed_so_far(no_room_list, grace.pk) == []
    await no_room_list.disconnect()
    for tab in tabs:
        frames = [await tab.receive_from() for _ in range(2)]
        activity = next(f for f in frames if "room-activity" in f)
        toast = next(f for f in frames if "toast" in f)
        assert f'id="room-activity-{dm.id}"' in activity
        assert f'data-newest="{message.id}"' in activity
        assert 'data-verb="direct"' in toast
        assert 'id="bell"' in toast
        assert 'data-count="1"' in toast
        assert await pushed_so_far(tab, grace.pk) == []
        await tab.disconnect()
