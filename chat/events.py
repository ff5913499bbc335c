"""Live pushes. Each event renders one partial once and sends it to one group."""

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.template.loader import render_to_string

from chat.logic import LOBBY_GROUP, room_group_name
from chat.models import Message, Room
from chat.queries import users_by_id
from realtime.push import apush_html, push_html


def message_posted(message: Message) -> None:
    html = render_to_string("chat/room.html#message-push", {"message": message})
    push_html(room_group_name(message.room_id), html)


def room_created(room: Room) -> None:
    html = render_to_string("chat/layout.html#room-link-push", {"room": room})
    push_html(LOBBY_GROUP, html)


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
