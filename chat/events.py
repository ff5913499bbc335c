"""Live pushes. Each event renders one partial once per group and sends it to that group.

Room events go to the room's group, which only sockets allowed to read the room have joined
(chat.consumers.RoomPart); a new message also sends a short signal to the room's activity
group, likewise joined only by readers' room lists (chat.consumers.UnreadPart), or, in a
direct conversation, to each of its two members' reader groups. Sidebar
changes for private rooms and direct conversations go to the personal groups of their members
only; the lobby hears of public rooms alone.
"""

from collections.abc import Iterable

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.template.loader import render_to_string

from chat import queries
from chat.logic import LOBBY_GROUP, reader_group_name, room_activity_group_name, room_group_name
from chat.models import Attachment, LinkPreview, Message, Room, TranscriptExport
from chat.queries import users_by_id
from notifications.logic import user_group_name
from realtime.push import apush_html, push_html, push_leave


def message_posted(message: Message) -> None:
    html = render_to_string("chat/room.html#message-push", {"message": message})
    push_html(room_group_name(message.room_id), html)
    # The room lists elsewhere: which room, which message, whose. Each page counts it against
    # its own viewer's cursor, so one fragment serves every member.
    activity = render_to_string("chat/layout.html#room-activity", {"message": message, "oob": True})
    if message.room.is_direct:
        # Two members, known to each other from the first message on: straight to their own
        # room lists, which need not have joined anything when the conversation began.
        for member_id in direct_member_ids(message.room):
            push_html(reader_group_name(member_id), activity)
        return
    push_html(room_activity_group_name(message.room_id), activity)


def message_posted_again(message: Message) -> None:
    """A retried send of a saved message: the room is sent it again, in case the first push
    never left; pages that show it already skip it by id. The room lists counted it once."""
    html = render_to_string("chat/room.html#message-push", {"message": message})
    push_html(room_group_name(message.room_id), html)


def direct_member_ids(room: Room) -> list[int]:
    return list(room.memberships.values_list("user_id", flat=True))


def message_changed(message: Message, change_id: int) -> None:
    """An edit or a delete: the message as it is now replaces it by id, and the page's change
    cursor moves on."""
    html = render_to_string(
        "chat/room.html#changed-push", {"changed": [message], "change_cursor": change_id}
    )
    push_html(room_group_name(message.room_id), html)


def room_created(room: Room) -> None:
    if room.is_public:
        html = render_to_string("chat/layout.html#room-link-push", {"room": room})
        push_html(LOBBY_GROUP, html)
        return
    room_added(room, list(room.members.all()))


def room_added(room: Room, users: Iterable[User]) -> None:
    """A private room or direct conversation appears in each of `users`' sidebars: their tabs
    with the room list (pages without one have nowhere to put it)."""
    for user in users:
        html = render_to_string("chat/layout.html#room-link-push", {"room": room, "viewer": user})
        push_html(reader_group_name(user.pk), html)


def access_ended(room: Room, user_id: int) -> None:
    """`user_id` left or was removed: their sockets on the room stop receiving it, their pages
    there say so, and the room leaves their sidebars."""
    gone = render_to_string("chat/room.html#access-ended", {"room": room})
    push_leave(user_group_name(user_id), leave=room_group_name(room.id), html=gone)
    # Their room lists elsewhere stop hearing of the room's messages too (nothing to show).
    push_leave(user_group_name(user_id), leave=room_activity_group_name(room.id), html="")
    unlisted = render_to_string("chat/layout.html#room-link-removed", {"room": room})
    push_html(reader_group_name(user_id), unlisted)


def room_presence_html(room_id: int, user_ids: list[int]) -> str:
    people = users_by_id(ids=user_ids)
    return render_to_string(
        "chat/room.html#presence", {"people": people, "room_id": room_id, "oob": True}
    )


async def room_presence_changed(room_id: int, user_ids: list[int]) -> None:
    html = await database_sync_to_async(room_presence_html)(room_id, user_ids)
    await apush_html(room_group_name(room_id), html)


async def typing_started(room_id: int, user: User) -> None:
    """Never stored: the page shows it for CHAT_TYPING_SHOW seconds unless it comes again."""
    html = render_to_string(
        "chat/room.html#typing-push",
        {"typist": user, "show_seconds": settings.CHAT_TYPING_SHOW},
    )
    await apush_html(room_group_name(room_id), html)


def read_cursor_moved(user: User, room_id: int) -> None:
    """The reader's tabs with the room list: the room's badge, from the new cursor."""
    state = queries.unread_states_for(user=user, room_ids=[room_id]).get(room_id)
    if state is None:  # the room is gone, or no longer readable
        return
    html = unread_badge_html(state, oob=True)
    push_html(reader_group_name(user.pk), html)


def unread_badge_html(state: queries.UnreadState, *, oob: bool) -> str:
    return render_to_string("chat/layout.html#unread-badge", {"unread": state, "oob": oob})


def link_preview_changed(preview: LinkPreview) -> None:
    html = render_to_string("chat/room.html#link-preview", {"preview": preview, "oob": True})
    push_html(room_group_name(preview.message.room_id), html)


def attachment_changed(attachment: Attachment) -> None:
    html = render_to_string("chat/room.html#attachment", {"attachment": attachment, "oob": True})
    push_html(room_group_name(attachment.message.room_id), html)


def export_changed(export: TranscriptExport) -> None:
    """Only the tabs of the person who asked: the export is theirs alone."""
    html = render_to_string("chat/exports.html#export", {"export": export, "oob": True})
    push_html(user_group_name(export.requested_by_id), html)
