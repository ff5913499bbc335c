"""Writes for reactions. A toggle is validated here, saved atomically with its entry in the
room's change stream (what a page resumes edits, deletes and reactions from), and pushed on
commit."""

from functools import partial

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from chat.models import MessageChange
from chat.queries.messages import message_reactable
from chat.reactions import events
from chat.reactions.models import Reaction
from realtime.validation import Invalid

NOT_AN_EMOJI = "Pick one of the reactions offered."
NO_SUCH_MESSAGE = "That message is not here any more."
# What a toggle costs from the sender's socket frame budget, in frames (chat.consumers).
TOGGLE_COST = 10.0


def clean_emoji(value: object) -> str:
    """`value` if it is one of the fixed set of reactions; Invalid otherwise."""
    if not isinstance(value, str) or value not in Reaction.Emoji.values:
        raise Invalid(NOT_AN_EMOJI)
    return value


def reaction_toggle(*, user: User, room_id: int, message_id: int, emoji: object) -> bool:
    """Add `user`'s `emoji` to the message, or take it away if they had picked it; everyone in
    the room sees the counts change. True if the reaction is there now.

    Only for a message the user can see (chat.queries.messages.message_reactable); anything
    else is refused like a missing message, and nothing is saved."""
    emoji = clean_emoji(emoji)
    message = message_reactable(user=user, room_id=room_id, message_id=message_id)
    if message is None:
        raise Invalid(NO_SUCH_MESSAGE)
    with transaction.atomic():
        removed, _ = Reaction.objects.filter(message=message, user=user, emoji=emoji).delete()
        if not removed:
            try:
                with transaction.atomic():
                    Reaction.objects.create(message=message, user=user, emoji=emoji)
            except IntegrityError:
                # Another tab of theirs added it at the same moment, and pushed it.
                return True
        change = MessageChange.objects.create(
            room_id=message.room_id, message=message, kind=MessageChange.Kind.REACTED
        )
        transaction.on_commit(partial(events.reactions_changed, message, change.id), robust=True)
    return not removed
