"""Reads of link previews."""

from collections.abc import Collection

from django.contrib.auth.models import User
from django.db.models import Q

from chat.previews.models import LinkPreview
from chat.queries.messages import shown_to


def link_preview_get(*, preview_id: int) -> LinkPreview | None:
    return LinkPreview.objects.filter(id=preview_id).select_related("message").first()


def link_preview_readable(*, user: User, preview_id: int) -> LinkPreview | None:
    return LinkPreview.objects.filter(shown_to(user), id=preview_id).first()


def link_previews_shown(
    *, user: User, room_slug: str | None, message_ids: Collection[int]
) -> list[LinkPreview]:
    """The current previews of these messages, in the room the page shows, if `user` may read
    it now: what a page still waiting on them needs. Any other is left out, as if missing."""
    if not room_slug or not message_ids:
        return []
    shown = shown_to(user) & Q(message_id__in=list(message_ids), message__room__slug=room_slug)
    return list(LinkPreview.objects.filter(shown))
