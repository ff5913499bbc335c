from django.db.models import Q

from chat.logic import TranscriptLine
from chat.models import Attachment, LinkPreview, Message, Room, TranscriptExport


def room_list() -> list[Room]:
    return list(Room.objects.order_by("name"))


def room_get(*, slug: str) -> Room | None:
    return Room.objects.filter(slug=slug).first()


def room_name_taken(*, name: str, slug: str) -> bool:
    return Room.objects.filter(Q(name__iexact=name) | Q(slug=slug)).exists()


def room_messages_after(*, room_id: int, after_id: int, limit: int) -> tuple[list[Message], bool]:
    """Up to `limit` messages newer than `after_id`, oldest first, and whether there are more."""
    page = list(
        Message.objects.filter(room_id=room_id, id__gt=after_id)
        .select_related("author", "link_preview", "attachment")
        .order_by("id")[: limit + 1]
    )
    return page[:limit], len(page) > limit


def room_messages_before(
    *, room_id: int, before_id: int | None, limit: int
) -> tuple[list[Message], bool]:
    """Up to `limit` messages older than `before_id` (or the latest), oldest first, and
    whether even older ones exist."""
    messages = Message.objects.filter(room_id=room_id).select_related(
        "author", "link_preview", "attachment"
    )
    if before_id is not None:
        messages = messages.filter(id__lt=before_id)
    page = list(messages.order_by("-id")[: limit + 1])
    has_older = len(page) > limit
    return page[:limit][::-1], has_older


def link_preview_get(*, preview_id: int) -> LinkPreview | None:
    return LinkPreview.objects.filter(id=preview_id).select_related("message").first()


def attachment_get(*, attachment_id: int) -> Attachment | None:
    return (
        Attachment.objects.filter(id=attachment_id)
        .select_related("message", "message__room")
        .first()
    )


def export_get(*, export_id: int) -> TranscriptExport | None:
    return TranscriptExport.objects.filter(id=export_id).select_related("room").first()


def export_for_download(*, export_id: int, user_id: int) -> TranscriptExport | None:
    """A finished export, only for the person who asked for it."""
    return (
        TranscriptExport.objects.filter(
            id=export_id, requested_by_id=user_id, status=TranscriptExport.Status.READY
        )
        .select_related("room")
        .first()
    )


def exports_for(*, room_id: int, user_id: int, limit: int = 5) -> list[TranscriptExport]:
    return list(
        TranscriptExport.objects.filter(room_id=room_id, requested_by_id=user_id)
        .select_related("room")
        .order_by("-id")[:limit]
    )


def exports_unfinished_count(*, user_id: int) -> int:
    return TranscriptExport.objects.filter(
        requested_by_id=user_id,
        status__in=[TranscriptExport.Status.PENDING, TranscriptExport.Status.RUNNING],
    ).count()


def room_message_count(*, room_id: int) -> int:
    return Message.objects.filter(room_id=room_id).count()


def transcript_lines_after(*, room_id: int, after_id: int, limit: int) -> list[TranscriptLine]:
    rows = (
        Message.objects.filter(room_id=room_id, id__gt=after_id)
        .order_by("id")
        .values_list("id", "created_at", "author__username", "body")[:limit]
    )
    return [
        TranscriptLine(id=id_, sent_at=sent_at, author=author, body=body)
        for id_, sent_at, author, body in rows
    ]


def task_results_for(
    *, room_slug: str | None, message_ids: list[int], export_ids: list[int], user_id: int
) -> tuple[list[LinkPreview], list[Attachment], list[TranscriptExport]]:
    """The current previews and attachments of these messages (in the room the page shows)
    and the viewer's own exports among these: what a page still waiting on them needs."""
    previews: list[LinkPreview] = []
    attachments: list[Attachment] = []
    if room_slug and message_ids:
        previews = list(
            LinkPreview.objects.filter(message_id__in=message_ids, message__room__slug=room_slug)
        )
        attachments = list(
            Attachment.objects.filter(message_id__in=message_ids, message__room__slug=room_slug)
        )
    exports = list(
        TranscriptExport.objects.filter(id__in=export_ids, requested_by_id=user_id).select_related(
            "room"
        )
    )
    return previews, attachments, exports
