"""Reads of rooms, their members and invitations. Every decision about who may read a room
goes through `rooms_readable_by`."""

from collections.abc import Collection, Iterable

from django.contrib.auth.models import User
from django.db.models import Prefetch, Q, QuerySet

from chat.models import Invitation, Membership, Room
from realtime.prepared import PreparedQuery


def rooms_readable_by(*, user: User) -> QuerySet[Room]:
    """Every room `user` may read: the public rooms, and the private rooms and direct
    conversations they are a member of."""
    member_of = Membership.objects.filter(user_id=user.pk).values("room_id")
    return Room.objects.filter(Q(kind=Room.Kind.PUBLIC) | Q(id__in=member_of))


def reader(user_id: int) -> User:
    """A stand-in for the user with `user_id`, for building prepared reads: the reads above
    use only its id."""
    return User(pk=user_id)


# Every page socket of a room looks the room up: compiled once (realtime.prepared).
_room_readable = PreparedQuery(
    lambda user_id, slug: rooms_readable_by(user=reader(user_id)).filter(slug=slug)[:1],
    user_id=int,
    slug=str,
)


def room_readable(*, user: User, slug: str) -> Room | None:
    """The room, if it exists and `user` may read it. None either way: a caller must not tell
    a private room from a missing one."""
    if user.pk is None:
        return rooms_readable_by(user=user).filter(slug=slug).first()
    found = _room_readable(user_id=user.pk, slug=slug)
    return found[0] if found else None


def room_readable_by_id(*, user: User, room_id: int) -> Room | None:
    return rooms_readable_by(user=user).filter(pk=room_id).first()


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


MEMBER_NAMES = Prefetch("members", queryset=User.objects.only("id", "username"))


def sidebar_rooms(*, user: User) -> list[Room]:
    """The rooms in `user`'s sidebar: public ones and their own private rooms and direct
    conversations (with their members, to name a conversation after the other person)."""
    return list(rooms_readable_by(user=user).prefetch_related(MEMBER_NAMES).order_by("name"))


def public_rooms() -> list[Room]:
    return list(Room.objects.filter(kind=Room.Kind.PUBLIC).order_by("name"))


def room_get(*, slug: str) -> Room | None:
    return Room.objects.filter(slug=slug).first()


def room_name_taken(*, name: str, slug: str) -> bool:
    return Room.objects.filter(Q(name__iexact=name) | Q(slug=slug)).exists()


def room_members(*, room: Room) -> list[User]:
    return list(room.members.order_by("username"))


def room_member_ids(*, room_id: int) -> list[int]:
    return list(Membership.objects.filter(room_id=room_id).values_list("user_id", flat=True))


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


def users_by_id(*, ids: Iterable[int]) -> list[User]:
    """The people with these ids, by username."""
    return list(User.objects.filter(pk__in=list(ids)).order_by("username"))
