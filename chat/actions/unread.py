"""Writes of read cursors: how far each person has read in each room."""

from functools import partial

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from chat import events
from chat.models import Message, ReadCursor, Room
from chat.queries import unread as unread_queries
from notifications.actions import notifications_mark_read_about
from notifications.models import Notification


def room_mark_read(*, user: User, room: Room, up_to: int) -> int | None:
    """Move the user's read cursor in `room` forward to the newest message at or before
    `up_to`; never back. On a move, push the new state to the reader's tabs on commit.
    Returns the cursor, or None when the room has no message at or before `up_to`."""
    newest = (
        Message.objects.filter(room=room, id__lte=up_to)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    if newest is None:
        return None
    with transaction.atomic():
        moved = ReadCursor.objects.filter(user=user, room=room, last_read_id__lt=newest).update(
            last_read_id=newest, updated_at=timezone.now()
        )
        if not moved:
            try:
                with transaction.atomic():
                    _, moved = ReadCursor.objects.get_or_create(
                        user=user, room=room, defaults={"last_read_id": newest}
                    )
            except IntegrityError:
                # Another tab created it at the same moment; move it forward if still behind.
                moved = ReadCursor.objects.filter(
                    user=user, room=room, last_read_id__lt=newest
                ).update(last_read_id=newest, updated_at=timezone.now())
        if moved:
            transaction.on_commit(partial(events.read_cursor_moved, user, room.id), robust=True)
        if moved and room.is_direct:
            # Read there, so the toast and the bell's count for it are done with; the next
            # message after this one notifies again.
            notifications_mark_read_about(
                user=user, verb=Notification.Verb.DIRECT, url_prefix=room.get_absolute_url() + "#"
            )
    return unread_queries.read_cursor_for(user_id=user.pk, room_id=room.id)
