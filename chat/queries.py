"""Reads. Every decision about who may read a room goes through `rooms_readable_by`."""

from collections.abc import Collection, Iterable

from django.contrib.auth.models import User
from django.db.models import Prefetch, Q, QuerySet

from chat.models import Invitation, Membership, Message, MessageChange, Room


def rooms_readable_by(*, user: User) -> QuerySet[Room]:
    """Every room `user` may read: the public rooms, and the private rooms and direct
    conversations they are a member of."""
    member_of = Membership.objects.filter(user_id=user.pk).values("room_id")
    return Room.objects.filter(Q(kind=Room.Kind.PUBLIC) | Q(id__in=member_of))


def room_readable(*, user: User, slug: str) -> Room | None:
    """The room, if it exists and `user` may read it. None either way: a caller must not tell
    a private room from a missing one."""
    return rooms_readable_by(user=user).filter(slug=slug).first()


def room_is_readable(*, user: User, room_id: int) -> bool:
    return rooms_readable_by(user=user).filter(id=room_id).exists()


def readers_among(*, room: Room, users: Collection[User]) -> list[User]:
    """Those of `users` who may read `room`."""
    if room.is_public:
        return list(users)
    members = set(
        Membership.objects.filter(room=room, user__in=list(users)).values_list("user_id", flat=True)
    )
    return [user for user in users if user.pk in members]


def sidebar_rooms(*, user: User) -> list[Room]:
    """The rooms in `user`'s sidebar: public ones and their own private rooms and direct
    conversations (with their members, to name a conversation after the other person)."""
    return list(
        rooms_readable_by(user=user)
        .prefetch_related(Prefetch("members", queryset=User.objects.only("id", "username")))
        .order_by("name")
    )


def public_rooms() -> list[Room]:
    return list(Room.objects.filter(kind=Room.Kind.PUBLIC).order_by("name"))


def room_get(*, slug: str) -> Room | None:
    return Room.objects.filter(slug=slug).first()


def room_name_taken(*, name: str, slug: str) -> bool:
    return Room.objects.filter(Q(name__iexact=name) | Q(slug=slug)).exists()


def room_members(*, room: Room) -> list[User]:
    return list(room.members.order_by("username"))


def is_member(*, user: User, room: Room) -> bool:
    return Membership.objects.filter(room=room, user_id=user.pk).exists()


def invitations_for(*, user: User) -> list[Invitation]:
    return list(
        Invitation.objects.filter(invitee=user).select_related("room", "invited_by").order_by("-id")
    )


def invitation_for(*, user: User, invitation_id: int) -> Invitation | None:
    """The invitation, if it is addressed to `user` (anyone else's looks missing)."""
    return (
        Invitation.objects.filter(id=invitation_id, invitee=user)
        .select_related("room", "invited_by")
        .first()
    )


def is_invited(*, user: User, room: Room) -> bool:
    return Invitation.objects.filter(room=room, invitee=user).exists()


def message_readable(*, user: User, message_id: int) -> Message | None:
    """The message, if it is in a room `user` may read."""
    return (
        Message.objects.filter(id=message_id, room__in=rooms_readable_by(user=user))
        .select_related("room", "author")
        .first()
    )


def _visible(messages: QuerySet[Message], hidden_author_ids: Collection[int]) -> QuerySet[Message]:
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
        _visible(messages, hidden_author_ids).select_related("author").order_by("id")[: limit + 1]
    )
    return page[:limit], len(page) > limit


def room_messages_before(
    *, room_id: int, before_id: int | None, limit: int, hidden_author_ids: Collection[int] = ()
) -> tuple[list[Message], bool]:
    """Up to `limit` messages older than `before_id` (or the latest), oldest first, and
    whether even older ones exist. Messages by `hidden_author_ids` are left out."""
    messages = _visible(Message.objects.filter(room_id=room_id), hidden_author_ids)
    if before_id is not None:
        messages = messages.filter(id__lt=before_id)
    page = list(messages.select_related("author").order_by("-id")[: limit + 1])
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
    found = _visible(Message.objects.filter(id__in=list(ids)), hidden_author_ids).select_related(
        "author"
    )
    by_id = {message.id: message for message in found}
    return [by_id[message_id] for message_id in ids if message_id in by_id]


def users_by_id(*, ids: Iterable[int]) -> list[User]:
    """The people with these ids, by username."""
    return list(User.objects.filter(pk__in=list(ids)).order_by("username"))
