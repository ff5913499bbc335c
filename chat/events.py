"""Live pushes. Each event renders one partial once and sends it to one group."""

from django.contrib.auth.models import User
from django.template.loader import render_to_string

from chat import queries
from chat.logic import LOBBY_GROUP, reader_group_name, room_activity_group_name, room_group_name
from chat.models import Message, Room
from realtime.push import push_html


def message_posted(message: Message) -> None:
    html = render_to_string("chat/room.html#message-push", {"message": message})
    push_html(room_group_name(message.room_id), html)
    # The room lists elsewhere: which room, which message, whose. Each page counts it against
    # its own viewer's cursor, so one fragment serves every member.
    activity = render_to_string("chat/layout.html#room-activity", {"message": message, "oob": True})
    push_html(room_activity_group_name(message.room_id), activity)


def room_created(room: Room) -> None:
    html = render_to_string("chat/layout.html#room-link-push", {"room": room})
    push_html(LOBBY_GROUP, html)


def read_cursor_moved(user: User, room_id: int) -> None:
    """The reader's tabs with the room list: the room's badge, from the new cursor."""
    state = queries.unread_states_for(user=user, room_ids=[room_id]).get(room_id)
    if state is None:  # the room is gone, or no longer readable
        return
    html = unread_badge_html(state, oob=True)
    push_html(reader_group_name(user.pk), html)


def unread_badge_html(state: queries.UnreadState, *, oob: bool) -> str:
    return render_to_string("chat/layout.html#unread-badge", {"unread": state, "oob": oob})
