"""Reads for reactions. Who may react goes through chat's own rule for reading rooms."""

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db.models import prefetch_related_objects

from chat.models import Message
from chat.queries import rooms_readable_by


def message_reactable(*, user: User, room_id: int, message_id: int) -> Message | None:
    """The message, if it is in room `room_id`, `user` may read that room, the message is not
    deleted, and its author is not someone `user` blocked (whose messages they do not see).
    None in every other case: a caller must not tell them apart."""
    return (
        Message.objects.filter(
            id=message_id,
            room_id=room_id,
            room__in=rooms_readable_by(user=user),
            deleted_at__isnull=True,
        )
        .exclude(author__blocks_received__blocker_id=user.pk)
        .first()
    )


def reactions_prefetch(messages: Iterable[Message]) -> None:
    """Read the reactions of `messages` (with who reacted) in one query, for rendering them
    together: `message.reactions.all` then asks nothing more."""
    prefetch_related_objects(list(messages), "reactions")
