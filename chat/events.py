"""Live pushes. Each event renders one partial once and sends it to one group."""

from django.template.loader import render_to_string

from chat.logic import LOBBY_GROUP, room_group_name
from chat.models import Message, Room
from realtime.push import push_html


def message_posted(message: Message) -> None:
    html = render_to_string("chat/room.html#message-push", {"message": message})
    push_html(room_group_name(message.room_id), html)


def room_created(room: Room) -> None:
    html = render_to_string("chat/layout.html#room-link-push", {"room": room})
    push_html(LOBBY_GROUP, html)
