"""Writes. Each action changes state atomically and schedules its events on commit."""

import uuid
from functools import partial

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from chat import events
from chat.logic import Invalid
from chat.models import Message, ReadCursor, Room
from chat.queries import read_cursor_for, room_name_taken
from notifications.actions import notify
from notifications.logic import excerpt, mentioned_names
from notifications.models import Notification
from notifications.queries import users_named


def room_create(*, name: str, slug: str, created_by: User) -> Room:
    with transaction.atomic():
        if room_name_taken(name=name, slug=slug):
            raise Invalid(f"A room called “{name}” already exists.")
        room = Room.objects.create(name=name, slug=slug, created_by=created_by)
        transaction.on_commit(partial(events.room_created, room), robust=True)
    return room


def message_post(*, room: Room, author: User, body: str, client_id: uuid.UUID | None) -> Message:
    """Save a message and push it to the room on commit; notify the people it mentions.

    A send retried with the same client id returns the message saved the first time and
    pushes nothing again.
    """
    if client_id is not None:
        existing = Message.objects.filter(author=author, client_id=client_id).first()
        if existing is not None:
            return existing
    mentioned = users_named(mentioned_names(body))
    try:
        with transaction.atomic():
            message = Message.objects.create(
                room=room,
                author=author,
                body=body,
                client_id=client_id,
                mentions=[user.username for user in mentioned],
            )
            transaction.on_commit(partial(events.message_posted, message), robust=True)
            notify(
                recipients=mentioned,
                actor=author,
                verb=Notification.Verb.MENTION,
                target_label=f"#{room.name}",
                target_url=message.get_absolute_url(),
                excerpt=excerpt(body),
            )
    except IntegrityError:
        # Two sockets raced with the same client id; the other one saved it.
        return Message.objects.get(author=author, client_id=client_id)
    return message


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
    return read_cursor_for(user_id=user.pk, room_id=room.id)
