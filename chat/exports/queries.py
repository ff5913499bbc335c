"""Reads of transcript exports, and of the messages a transcript holds."""

from collections.abc import Collection

from django.contrib.auth.models import User
from django.db.models import QuerySet

from chat.exports.logic import TranscriptLine
from chat.exports.models import TranscriptExport
from chat.models import Message
from chat.queries import rooms as room_queries
from chat.queries.messages import messages_visible


def export_get(*, export_id: int) -> TranscriptExport | None:
    return (
        TranscriptExport.objects.filter(id=export_id).select_related("room", "requested_by").first()
    )


def _own_exports(user: User) -> QuerySet[TranscriptExport]:
    """`user`'s exports of rooms they may still read: leaving a room leaves its transcripts."""
    return TranscriptExport.objects.filter(
        requested_by_id=user.pk, room__in=room_queries.rooms_readable_by(user=user)
    ).select_related("room")


def export_for_download(*, export_id: int, user: User) -> TranscriptExport | None:
    """A finished export, only for the person who asked for it, while they may read its room."""
    return _own_exports(user).filter(id=export_id, status=TranscriptExport.Status.READY).first()


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


def _transcript_messages(room_id: int, hidden_author_ids: Collection[int]) -> QuerySet[Message]:
    """What a transcript holds: the room's messages as its reader sees them, without deleted
    ones or those by people the reader blocked."""
    messages = Message.objects.filter(room_id=room_id, deleted_at__isnull=True)
    return messages_visible(messages, hidden_author_ids)


def room_message_count(*, room_id: int, hidden_author_ids: Collection[int] = ()) -> int:
    return _transcript_messages(room_id, hidden_author_ids).count()


def transcript_lines_after(
    *, room_id: int, after_id: int, limit: int, hidden_author_ids: Collection[int] = ()
) -> list[TranscriptLine]:
    rows = (
        _transcript_messages(room_id, hidden_author_ids)
        .filter(id__gt=after_id)
        .order_by("id")
        .values_list("id", "created_at", "author__username", "body")[:limit]
    )
    return [
        TranscriptLine(id=id_, sent_at=sent_at, author=author, body=body)
        for id_, sent_at, author, body in rows
    ]


def exports_own_among(*, user: User, export_ids: Collection[int]) -> list[TranscriptExport]:
    """`user`'s own exports among these, of rooms they may still read: what a page still
    waiting on them needs. Anyone else's is left out, as if missing."""
    return list(_own_exports(user).filter(id__in=list(export_ids))) if export_ids else []
