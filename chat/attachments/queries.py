"""Reads of image attachments."""

from collections.abc import Collection

from django.contrib.auth.models import User
from django.db.models import Q

from chat.attachments.models import Attachment
from chat.queries.messages import shown_to


def attachment_get(*, attachment_id: int) -> Attachment | None:
    return (
        Attachment.objects.filter(id=attachment_id)
        .select_related("message", "message__room")
        .first()
    )


def attachment_readable(*, user: User, attachment_id: int) -> Attachment | None:
    return Attachment.objects.filter(shown_to(user), id=attachment_id).first()


def attachments_shown(
    *, user: User, room_slug: str | None, message_ids: Collection[int]
) -> list[Attachment]:
    """The current attachments of these messages, in the room the page shows, if `user` may
    read it now: what a page still waiting on them needs. Any other is left out."""
    if not room_slug or not message_ids:
        return []
    shown = shown_to(user) & Q(message_id__in=list(message_ids), message__room__slug=room_slug)
    return list(Attachment.objects.filter(shown))
