"""Reads of messages: a room's history, what a page missed, and what it may show."""

import uuid
from collections.abc import Collection, Sequence

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from accounts.models import Block
from chat import logic
from chat.models import Message, MessageChange, Room
from chat.queries import rooms as room_queries


def message_readable(*, user: User, message_id: int) -> Message | None:
    """The message, if it is in a room `user` may read."""
    return (
        Message.objects.filter(id=message_id, room__in=room_queries.rooms_readable_by(user=user))
        .select_related("room", "author")
        .first()
    )


def message_reactable(*, user: User, room_id: int, message_id: int) -> Message | None:
    """The message, if it is in room `room_id`, `user` may read that room, the message is not
    deleted, and its author is not someone `user` blocked (whose messages they do not see);
    in a direct conversation, as for posting there, not once either of the two blocked the
    other. None in every other case: a caller must not tell them apart."""
    blocked = Block.objects.filter(blocker_id=user.pk).values("blocked_id")
    blockers = Block.objects.filter(blocked_id=user.pk).values("blocker_id")
    return (
        Message.objects.filter(
            id=message_id,
            room_id=room_id,
            room__in=room_queries.rooms_readable_by(user=user),
            deleted_at__isnull=True,
        )
        .exclude(by_blocked_authors(user.pk))
        .exclude(room__kind=Room.Kind.DIRECT, room__members__in=blocked)
        .exclude(room__kind=Room.Kind.DIRECT, room__members__in=blockers)
        .first()
    )


# What the message partial shows besides the text: read with the messages, not one by one
# (the reactions with who reacted: chat.reactions.models.ReactionManager).
MESSAGE_RELATED = ("author", "link_preview", "attachment")
MESSAGE_PREFETCH = ("reactions",)


def shown_with_related(messages: QuerySet[Message]) -> QuerySet[Message]:
    return messages.select_related(*MESSAGE_RELATED).prefetch_related(*MESSAGE_PREFETCH)


def messages_visible(
    messages: QuerySet[Message], hidden_author_ids: Collection[int]
) -> QuerySet[Message]:
    if hidden_author_ids:
        messages = messages.exclude(author_id__in=list(hidden_author_ids))
    return messages


def room_messages_after(
    *, room_id: int, after_id: int, limit: int, hidden_author_ids: Collection[int] = ()
) -> tuple[list[Message], bool]:
    """Up to `limit` messages newer than `after_id`, oldest first, and whether there are more.
    Messages by `hidden_author_ids` (people the reader blocked) are left out."""
    messages = Message.objects.filter(room_id=room_id, id__gt=after_id)
    page = list(
        shown_with_related(messages_visible(messages, hidden_author_ids)).order_by("id")[
            : limit + 1
        ]
    )
    return page[:limit], len(page) > limit


def room_messages_missing_among(
    *, room_id: int, shown_ids: Sequence[int], limit: int, hidden_author_ids: Collection[int] = ()
) -> list[Message]:
    """The messages a page lacks among those it shows: newer than the oldest of `shown_ids`,
    older than the newest, and not in them; oldest first, at most `limit`."""
    if len(shown_ids) < 2:
        return []
    messages = Message.objects.filter(
        room_id=room_id, id__gt=min(shown_ids), id__lt=max(shown_ids)
    ).exclude(id__in=shown_ids)
    visible = shown_with_related(messages_visible(messages, hidden_author_ids))
    return list(visible.order_by("id")[:limit])


def room_messages_before(
    *, room_id: int, before_id: int | None, limit: int, hidden_author_ids: Collection[int] = ()
) -> tuple[list[Message], bool]:
    """Up to `limit` messages older than `before_id` (or the latest), oldest first, and
    whether even older ones exist. Messages by `hidden_author_ids` are left out."""
    messages = messages_visible(Message.objects.filter(room_id=room_id), hidden_author_ids)
    if before_id is not None:
        messages = messages.filter(id__lt=before_id)
    page = list(shown_with_related(messages).order_by("-id")[: limit + 1])
    has_older = len(page) > limit
    return page[:limit][::-1], has_older


def room_change_cursor(*, room_id: int) -> int:
    """The newest edit or delete in the room (0 for none): where a fresh page starts."""
    latest = MessageChange.objects.filter(room_id=room_id).order_by("-id").first()
    return latest.id if latest else 0


def room_changes_after(
    *, room_id: int, after_id: int, limit: int
) -> tuple[list[tuple[int, int]], bool]:
    """Up to `limit` (change id, message id) pairs newer than `after_id`, in order, and whether
    there are more."""
    rows = list(
        MessageChange.objects.filter(room_id=room_id, id__gt=after_id)
        .order_by("id")
        .values_list("id", "message_id")[: limit + 1]
    )
    return rows[:limit], len(rows) > limit


def messages_by_id(
    *, ids: Collection[int], hidden_author_ids: Collection[int] = ()
) -> list[Message]:
    """The messages with `ids`, in the order of `ids` (those by hidden authors left out)."""
    found = shown_with_related(
        messages_visible(Message.objects.filter(id__in=list(ids)), hidden_author_ids)
    )
    by_id = {message.id: message for message in found}
    return [by_id[message_id] for message_id in ids if message_id in by_id]


def messages_by_client_ids(
    *, keys: Collection[tuple[int, uuid.UUID]]
) -> dict[tuple[int, uuid.UUID], Message]:
    """The messages saved under these (author id, client id) pairs, by that pair."""
    if not keys:
        return {}
    found = Message.objects.filter(
        author_id__in={author for author, _ in keys},
        client_id__in={client_id for _, client_id in keys},
    )
    return {
        (message.author_id, message.client_id): message
        for message in found
        if message.client_id is not None and (message.author_id, message.client_id) in keys
    }


def room_message_get(*, room_id: int, message_id: int) -> Message | None:
    return Message.objects.filter(room_id=room_id, id=message_id).first()


def room_newest_id(*, room_id: int) -> int:
    newest = Message.objects.filter(room_id=room_id).order_by("-id").values_list("id", flat=True)
    return newest.first() or 0


def room_messages_around(
    *, room_id: int, message_id: int, limit: int, hidden_author_ids: Collection[int] = ()
) -> tuple[list[Message], bool, bool]:
    """About `limit` messages with `message_id` among them, oldest first, and whether older
    and newer ones exist beyond them. Messages by `hidden_author_ids` are left out."""
    before, after = logic.window_split(limit)
    older, has_older = room_messages_before(
        room_id=room_id, before_id=message_id, limit=before, hidden_author_ids=hidden_author_ids
    )
    newer, has_newer = room_messages_after(
        room_id=room_id, after_id=message_id - 1, limit=after, hidden_author_ids=hidden_author_ids
    )
    return older + newer, has_older, has_newer


def room_messages_between(
    *,
    room_id: int,
    after_id: int,
    until_id: int,
    limit: int,
    hidden_author_ids: Collection[int] = (),
) -> tuple[list[Message], bool]:
    """Up to `limit` messages after `after_id` up to and including `until_id`, oldest first,
    and whether more remain in that range. Messages by `hidden_author_ids` are left out."""
    messages = Message.objects.filter(room_id=room_id, id__gt=after_id, id__lte=until_id)
    page = list(
        messages_visible(messages, hidden_author_ids)
        .select_related("author")
        .order_by("id")[: limit + 1]
    )
    return page[:limit], len(page) > limit


def by_blocked_authors(user_id: int) -> Q:
    """Messages whose authors `user_id` blocked (accounts.Block): hidden from them."""
    return Q(author__blocks_received__blocker_id=user_id)


def shown_to(user: User) -> Q:
    """For rows hanging off a message: the message is in a room `user` may read now, is not
    deleted, and is not by someone `user` blocked."""
    return Q(
        message__room__in=room_queries.rooms_readable_by(user=user),
        message__deleted_at__isnull=True,
    ) & ~Q(message__author_id__in=Block.objects.filter(blocker_id=user.pk).values("blocked_id"))
