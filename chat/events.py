"""Live pushes. Each event renders one partial once per group and sends it to that group.

Room events go to the room's group, which only sockets allowed to read the room have joined
(chat.consumers.RoomPart); a new message also sends a short signal to the room's activity
group, likewise joined only by readers' room lists (chat.consumers.UnreadPart), or, in a
direct conversation, to each of its two members' reader groups. Sidebar
changes for private rooms and direct conversations go to the personal groups of their members
only; the lobby hears of public rooms alone.
"""

from collections.abc import Iterable, Mapping, Sequence

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.template.loader import render_to_string

from accounts import queries as people
from chat import logic
from chat.attachments.events import attachment_html
from chat.exports.events import export_html
from chat.logic import LOBBY_GROUP, reader_group_name, room_activity_group_name, room_group_name
from chat.models import Attachment, LinkPreview, Message, Room, TranscriptExport
from chat.previews.events import link_preview_html
from chat.queries import messages as message_queries
from chat.queries import rooms as room_queries
from chat.queries import unread as unread_queries
from realtime.groups import user_group_name
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
        for member_id in room_queries.room_member_ids(room_id=message.room_id):
            push_html(reader_group_name(member_id), activity)
        return
    push_html(room_activity_group_name(message.room_id), activity)


def message_posted_again(message: Message) -> None:
    """A retried send of a saved message: the room is sent it again, in case the first push
    never left; pages that show it already skip it by id. The room lists counted it once."""
    html = render_to_string("chat/room.html#message-push", {"message": message})
    push_html(room_group_name(message.room_id), html)


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
    room_added(room, room_queries.room_members(room=room))


def room_added(room: Room, users: Iterable[User]) -> None:
    """A private room or direct conversation appears in each of `users`' sidebars: their tabs
    with the room list (pages without one have nowhere to put it)."""
    for user in users:
        html = render_to_string("chat/layout.html#room-link-push", {"room": room, "viewer": user})
        push_html(reader_group_name(user.pk), html)


def access_ended(room: Room, user_id: int) -> None:
    """`user_id` left or was removed: their sockets on the room stop receiving it, their pages
    there say so, and the room leaves their sidebars."""
    gone = access_ended_html(room)
    push_leave(user_group_name(user_id), leave=room_group_name(room.id), html=gone)
    # Their room lists elsewhere stop hearing of the room's messages too (nothing to show).
    push_leave(user_group_name(user_id), leave=room_activity_group_name(room.id), html="")
    unlisted = render_to_string("chat/layout.html#room-link-removed", {"room": room})
    push_html(reader_group_name(user_id), unlisted)


def room_presence_html(room_id: int, user_ids: list[int]) -> str:
    """Who is here: how many, and the names of the first PRESENCE_NAMED to have signed up."""
    named = sorted(user_ids)[: logic.PRESENCE_NAMED]
    people = room_queries.users_by_id(ids=named)
    return render_to_string(
        "chat/room.html#presence",
        {"people": people, "here": len(user_ids), "more": len(user_ids) - len(people), "oob": True},
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
    state = unread_queries.unread_states_for(user=user, room_ids=[room_id]).get(room_id)
    if state is None:  # the room is gone, or no longer readable
        return
    html = unread_badge_html(state, oob=True)
    push_html(reader_group_name(user.pk), html)


def unread_badge_html(state: unread_queries.UnreadState, *, oob: bool) -> str:
    return render_to_string("chat/layout.html#unread-badge", {"unread": state, "oob": oob})


def access_ended_html(room: Room) -> str:
    return render_to_string("chat/room.html#access-ended", {"room": room})


def missed_html(
    room: Room,
    after_id: int,
    changes_after: int | None = None,
    reader_id: int | None = None,
    shown_ids: Sequence[int] = (),
) -> str:
    """What a page missed since its cursors: new messages (`after_id`) and those missing
    between the ones it shows (`shown_ids`: a push lost while a newer message from another
    process arrived), then edits and deletes of the messages it already had
    (`changes_after`), each once, in order. A gap too large to replay refreshes the
    conversation instead."""
    hidden = people.blocked_ids_for(user_id=reader_id) if reader_id is not None else []
    limit = settings.CHAT_RESUME_LIMIT
    holes = message_queries.room_messages_missing_among(
        room_id=room.id, shown_ids=shown_ids, limit=limit, hidden_author_ids=hidden
    )
    missed, more = message_queries.room_messages_after(
        room_id=room.id, after_id=after_id, limit=limit, hidden_author_ids=hidden
    )
    # Holes past the cursor (a page may report ids beyond it) are among `missed` already.
    missed = [message for message in holes if message.id <= after_id] + missed
    changes: list[tuple[int, int]] = []
    if changes_after is not None and not more:
        changes, more = message_queries.room_changes_after(
            room_id=room.id, after_id=changes_after, limit=limit
        )
    if more:
        change_cursor = message_queries.room_change_cursor(room_id=room.id)
        history, has_older = message_queries.room_messages_before(
            room_id=room.id, before_id=None, limit=settings.CHAT_PAGE_SIZE, hidden_author_ids=hidden
        )
        context = {
            "room": room,
            "history": history,
            "has_older": has_older,
            "change_cursor": change_cursor,
        }
        return render_to_string("chat/room.html#refreshed", context)
    html = render_to_string("chat/room.html#missed", {"missed": missed}) if missed else ""
    if changes:
        changed = message_queries.messages_by_id(
            ids=logic.latest_changes(changes, skip_after=after_id), hidden_author_ids=hidden
        )
        html += render_to_string(
            "chat/room.html#changed-push", {"changed": changed, "change_cursor": changes[-1][0]}
        )
    return html


def composer_rejected_html(room: Room, frame: Mapping[str, object], error: str) -> str:
    """The composer's error, and the refused text put back so that nothing typed is lost."""
    body = frame.get("body")
    client_id = frame.get("client_id")
    context = {
        "room": room,
        "answered": client_id if isinstance(client_id, str) else "",
        "composer_error": error,
        "composer_body": body if isinstance(body, str) else "",
        "max_length": settings.CHAT_MESSAGE_MAX_LENGTH,
    }
    return render_to_string("chat/room.html#composer-error", context) + render_to_string(
        "chat/room.html#composer-body", {**context, "oob": True}
    )


def composer_answered_html(client_id: object) -> str:
    """The acknowledgement of a send: the page stops holding it for a retry."""
    return render_to_string("chat/room.html#composer-error", {"answered": client_id or ""})


def task_results_html(
    previews: Iterable[LinkPreview],
    attachments: Iterable[Attachment],
    exports: Iterable[TranscriptExport],
) -> str:
    """The current state of task results a page is waiting on, each swapped in by its id."""
    parts = [link_preview_html(preview) for preview in previews]
    parts += [attachment_html(attachment) for attachment in attachments]
    parts += [export_html(export) for export in exports]
    return "".join(parts)
