"""Writes. Each action changes state atomically and schedules its events on commit."""

import uuid
from functools import partial

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from chat import events
from chat.logic import Invalid
from chat.models import Message, Room
from chat.queries import room_name_taken
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
