"""Live pushes of link previews: the card replaces its placeholder by id."""

from django.template.loader import render_to_string

from chat.logic import room_group_name
from chat.previews.models import LinkPreview
from realtime.push import push_html


def link_preview_html(preview: LinkPreview) -> str:
    return render_to_string("chat/previews.html#link-preview", {"preview": preview, "oob": True})


def link_preview_changed(preview: LinkPreview) -> None:
    push_html(room_group_name(preview.message.room_id), link_preview_html(preview))
