"""Live pushes of image attachments: the thumbnail replaces its placeholder by id."""

from django.template.loader import render_to_string

from chat.attachments.models import Attachment
from chat.logic import room_group_name
from realtime.push import push_html


def attachment_html(attachment: Attachment) -> str:
    return render_to_string(
        "chat/attachments.html#attachment", {"attachment": attachment, "oob": True}
    )


def attachment_changed(attachment: Attachment) -> None:
    push_html(room_group_name(attachment.message.room_id), attachment_html(attachment))
