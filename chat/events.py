"""Live pushes. Each event renders one partial once and sends it to one group."""

from django.template.loader import render_to_string

from chat.logic import LOBBY_GROUP, room_group_name
from chat.models import Attachment, LinkPreview, Message, Room, TranscriptExport
from notifications.logic import user_group_name
from realtime.push import push_html


def message_posted(message: Message) -> None:
    html = render_to_string("chat/room.html#message-push", {"message": message})
    push_html(room_group_name(message.room_id), html)


def room_created(room: Room) -> None:
    html = render_to_string("chat/layout.html#room-link-push", {"room": room})
    push_html(LOBBY_GROUP, html)


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
