"""Reads of read cursors and unread counts."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import (
    CharField,
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat, StrIndex

from chat import logic
from chat.models import Message, ReadCursor, Room
from chat.queries import rooms as room_queries
from chat.queries.messages import by_blocked_authors
from chat.queries.rooms import reader
from realtime.prepared import PreparedQuery


def rooms_followed_by(*, user: User) -> QuerySet[Room]:
    """The readable rooms whose unread count the user sees: every private room and direct
    conversation they belong to, from its first message, and the public rooms they have
    opened (a public room never opened is all new, so it has no count)."""
    opened = ReadCursor.objects.filter(user_id=user.pk).values("room_id")
    return room_queries.rooms_readable_by(user=user).filter(
        ~Q(kind=Room.Kind.PUBLIC) | Q(id__in=opened)
    )


# Every page socket with the room list reads these: compiled once (realtime.prepared).
# Direct conversations have no activity group: their two members hear of each message in
# their own reader groups (chat.events.message_posted), from the first one on.
_room_ids_followed = PreparedQuery(
    lambda user_id, except_slug: (
        rooms_followed_by(user=reader(user_id))
        .exclude(slug=except_slug)
        .exclude(kind=Room.Kind.DIRECT)
        .order_by()
        .values_list("id", flat=True)
    ),
    user_id=int,
    except_slug=str,
)


def room_ids_followed_by(*, user: User, except_slug: str = "") -> list[int]:
    """The ids of the rooms `user` follows, but direct conversations and the one with
    `except_slug` (no room has an empty slug)."""
    return _room_ids_followed(user_id=user.pk, except_slug=except_slug)


def read_cursor_for(*, user_id: int, room_id: int) -> int:
    """The newest message id the user has read in the room (0 for none)."""
    cursor = ReadCursor.objects.filter(user_id=user_id, room_id=room_id)
    return cursor.values_list("last_read_id", flat=True).first() or 0


def room_first_unread_id(
    *, user_id: int, room_id: int, read_id: int, followed: bool = False
) -> int | None:
    """The oldest message past the cursor that someone else wrote, leaving out people the
    user blocked. A public room never opened (read_id 0, not `followed`) has none: there is
    no "new" in a conversation one has not followed; a room one belongs to counts from its
    first message."""
    if not read_id and not followed:
        return None
    unread = (
        Message.objects.filter(room_id=room_id, id__gt=read_id)
        .exclude(author_id=user_id)
        .exclude(by_blocked_authors(user_id))
    )
    return unread.order_by("id").values_list("id", flat=True).first()


@dataclass(frozen=True)
class UnreadState:
    """One reader's position in one room, as the room list shows it."""

    room_id: int
    read_id: int  # the reader's cursor
    newest_id: int  # the room's newest message, which the count covers
    count: int  # messages past the cursor written by others (not by people blocked)
    mentioned: bool = False  # one of those mentions the reader

    @property
    def label(self) -> str:
        return logic.unread_label(self.count)


def unread_states_for(
    *, user: User, room_ids: Iterable[int] | None = None
) -> dict[int, UnreadState]:
    """The user's unread state in every room they follow (can read and have opened, so have
    a cursor in), or in those of `room_ids`, in one query; counting walks only the unread
    part of each room's index. Public rooms never opened have no count: everything in them
    is new."""
    if room_ids is None:
        rows = _unread_rows(user_id=user.pk, username=user.get_username())
    else:
        rooms = rooms_followed_by(user=user).filter(pk__in=list(room_ids))
        rows = list(unread_rows(rooms, user, user.get_username()))
    return {
        room_id: UnreadState(
            room_id=room_id,
            read_id=read_id,
            newest_id=newest_id,
            count=count,
            mentioned=bool(mentioned),
        )
        for room_id, read_id, newest_id, count, mentioned in rows
    }


def unread_rows(
    rooms: QuerySet[Room], user: User, username: str
) -> QuerySet[Room, tuple[int, int, int, int, bool]]:
    """Of each of `rooms`: its id, `user`'s cursor, its newest message id, unread count, and
    whether an unread message mentions `user` (by `username`)."""
    cursor = ReadCursor.objects.filter(user_id=user.pk, room_id=OuterRef("pk"))
    newest = Message.objects.filter(room_id=OuterRef("pk")).order_by("-id")
    unread = (
        Message.objects.filter(room_id=OuterRef("pk"), id__gt=OuterRef("read_id"))
        .exclude(author_id=user.pk)
        .exclude(by_blocked_authors(user.pk))
        .order_by()
        .values("room_id")
        .annotate(count=Count("id"))
    )
    # Mentions are stored as a JSON list of usernames: find the quoted name in its text.
    # The name stays one parameter of the SQL (realtime.prepared fills it in).
    quoted = Concat(Value('"'), Value(username, output_field=CharField()), Value('"'))
    mentions = (
        Message.objects.filter(room_id=OuterRef("pk"), id__gt=OuterRef("read_id"))
        .exclude(author_id=user.pk)
        .exclude(by_blocked_authors(user.pk))
        .annotate(mention_at=StrIndex(Cast("mentions", TextField()), quoted))
        .filter(mention_at__gt=0)
    )
    return (
        rooms.order_by()
        .annotate(read_id=Coalesce(Subquery(cursor.values("last_read_id")[:1]), 0))
        .annotate(
            newest_id=Coalesce(Subquery(newest.values("id")[:1]), 0),
            unread=Coalesce(Subquery(unread.values("count")), 0),
            mentioned=Exists(mentions),
        )
        .values_list("id", "read_id", "newest_id", "unread", "mentioned")
    )


# Every page socket with the room list reads these when it opens: compiled once.
_unread_rows = PreparedQuery(
    lambda user_id, username: unread_rows(
        rooms_followed_by(user=reader(user_id)), reader(user_id), username
    ),
    user_id=int,
    username=str,
)
