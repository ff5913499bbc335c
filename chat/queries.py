from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.safestring import SafeString

from chat import logic
from chat.models import Message, ReadCursor, Room


def room_list() -> list[Room]:
    return list(Room.objects.order_by("name"))


def room_get(*, slug: str) -> Room | None:
    return Room.objects.filter(slug=slug).first()


def room_name_taken(*, name: str, slug: str) -> bool:
    return Room.objects.filter(Q(name__iexact=name) | Q(slug=slug)).exists()


def room_messages_after(*, room_id: int, after_id: int, limit: int) -> tuple[list[Message], bool]:
    """Up to `limit` messages newer than `after_id`, oldest first, and whether there are more."""
    page = list(
        Message.objects.filter(room_id=room_id, id__gt=after_id)
        .select_related("author")
        .order_by("id")[: limit + 1]
    )
    return page[:limit], len(page) > limit


def room_messages_before(
    *, room_id: int, before_id: int | None, limit: int
) -> tuple[list[Message], bool]:
    """Up to `limit` messages older than `before_id` (or the latest), oldest first, and
    whether even older ones exist."""
    messages = Message.objects.filter(room_id=room_id).select_related("author")
    if before_id is not None:
        messages = messages.filter(id__lt=before_id)
    page = list(messages.order_by("-id")[: limit + 1])
    has_older = len(page) > limit
    return page[:limit][::-1], has_older


def rooms_followed_by(*, user: User) -> QuerySet[Room]:
    """The readable rooms whose unread count the user sees: those they have opened."""
    return rooms_readable_by(user=user).filter(read_cursors__user=user)


def rooms_readable_by(*, user: User) -> QuerySet[Room]:
    """Every room `user` may read: every read decision goes through here. Today every room
    is public."""
    return Room.objects.all()


def room_readable_by(*, user: User, room_id: int) -> bool:
    return rooms_readable_by(user=user).filter(pk=room_id).exists()


def room_message_get(*, room_id: int, message_id: int) -> Message | None:
    return Message.objects.filter(room_id=room_id, id=message_id).first()


def room_newest_id(*, room_id: int) -> int:
    newest = Message.objects.filter(room_id=room_id).order_by("-id").values_list("id", flat=True)
    return newest.first() or 0


def room_messages_around(
    *, room_id: int, message_id: int, limit: int
) -> tuple[list[Message], bool, bool]:
    """About `limit` messages with `message_id` among them, oldest first, and whether older
    and newer ones exist beyond them."""
    before, after = logic.window_split(limit)
    older, has_older = room_messages_before(room_id=room_id, before_id=message_id, limit=before)
    newer, has_newer = room_messages_after(room_id=room_id, after_id=message_id - 1, limit=after)
    return older + newer, has_older, has_newer


def room_messages_between(
    *, room_id: int, after_id: int, until_id: int, limit: int
) -> tuple[list[Message], bool]:
    """Up to `limit` messages after `after_id` up to and including `until_id`, oldest first,
    and whether more remain in that range."""
    page = list(
        Message.objects.filter(room_id=room_id, id__gt=after_id, id__lte=until_id)
        .select_related("author")
        .order_by("id")[: limit + 1]
    )
    return page[:limit], len(page) > limit


def read_cursor_for(*, user_id: int, room_id: int) -> int:
    """The newest message id the user has read in the room (0 for none)."""
    cursor = ReadCursor.objects.filter(user_id=user_id, room_id=room_id)
    return cursor.values_list("last_read_id", flat=True).first() or 0


def room_first_unread_id(*, user_id: int, room_id: int, read_id: int) -> int | None:
    """The oldest message past the cursor that someone else wrote (None for a room never
    opened, read_id 0: there is no "new" in a conversation one has not followed)."""
    if not read_id:
        return None
    unread = Message.objects.filter(room_id=room_id, id__gt=read_id).exclude(author_id=user_id)
    return unread.order_by("id").values_list("id", flat=True).first()


@dataclass(frozen=True)
class UnreadState:
    """One reader's position in one room, as the room list shows it."""

    room_id: int
    read_id: int  # the reader's cursor
    newest_id: int  # the room's newest message, which the count covers
    count: int  # messages past the cursor written by others

    @property
    def label(self) -> str:
        return logic.unread_label(self.count)


def unread_states_for(
    *, user: User, room_ids: Iterable[int] | None = None
) -> dict[int, UnreadState]:
    """The user's unread state in every room they follow (can read and have opened, so have
    a cursor in), or in those of `room_ids`, in one query; counting walks only the unread
    part of each room's index. Rooms never opened have no count: everything in them is new."""
    rooms = rooms_followed_by(user=user)
    if room_ids is not None:
        rooms = rooms.filter(pk__in=list(room_ids))
    cursor = ReadCursor.objects.filter(user_id=user.pk, room_id=OuterRef("pk"))
    newest = Message.objects.filter(room_id=OuterRef("pk")).order_by("-id")
    unread = (
        Message.objects.filter(room_id=OuterRef("pk"), id__gt=OuterRef("read_id"))
        .exclude(author_id=user.pk)
        .order_by()
        .values("room_id")
        .annotate(count=Count("id"))
    )
    rows = (
        rooms.order_by()
        .annotate(read_id=Coalesce(Subquery(cursor.values("last_read_id")[:1]), 0))
        .annotate(
            newest_id=Coalesce(Subquery(newest.values("id")[:1]), 0),
            unread=Coalesce(Subquery(unread.values("count")), 0),
        )
        .values_list("pk", "read_id", "newest_id", "unread")
    )
    return {
        room_id: UnreadState(room_id=room_id, read_id=read_id, newest_id=newest_id, count=count)
        for room_id, read_id, newest_id, count in rows
    }


@dataclass(frozen=True)
class SearchHit:
    message: Message
    snippet: SafeString  # escaped, with the matches in <mark>


def message_search(*, user: User, query: str, limit: int) -> tuple[list[SearchHit], bool]:
    """Messages matching `query` in the rooms `user` can read, best first, and whether there
    were more than `limit`. PostgreSQL ranks full-text matches (GIN-indexed, see migration
    0004); other databases match every word as a substring, newest first."""
    messages = Message.objects.filter(room__in=rooms_readable_by(user=user)).select_related(
        "room", "author"
    )
    if connection.vendor == "postgresql":
        hits = _full_text_search(messages, query, limit + 1)
    else:
        hits = _substring_search(messages, query, limit + 1)
    return hits[:limit], len(hits) > limit


def full_text_matches(messages: QuerySet[Message], query: str) -> QuerySet[Message]:
    """PostgreSQL: messages matching a web-search style query (words, "phrases", -not, or),
    best first, each with a headline whose matches are marked. Only the newest
    SEARCH_CANDIDATES matches are ranked: ranking reads every candidate's text again, and in
    a chat the newest of many matches are the likely ones."""
    # The same expression as the GIN index, or PostgreSQL cannot use it.
    document = SearchVector("body", config="english")
    search = SearchQuery(query, config="english", search_type="websearch")
    candidates = (
        messages.alias(document=document)
        .filter(document=search)
        .order_by("-id")
        .values("id")[: logic.SEARCH_CANDIDATES]
    )
    return (
        messages.filter(id__in=Subquery(candidates))
        .annotate(
            rank=SearchRank(document, search),
            headline=SearchHeadline(
                "body",
                search,
                config="english",
                start_sel=logic.MARK_START,
                stop_sel=logic.MARK_STOP,
                max_words=30,
                min_words=12,
            ),
        )
        .order_by("-rank", "-id")
    )


def _full_text_search(messages: QuerySet[Message], query: str, limit: int) -> list[SearchHit]:
    rows = full_text_matches(messages, query)[:limit]
    return [
        SearchHit(message=row, snippet=logic.highlight(row.headline))  # type: ignore[attr-defined]
        for row in rows
    ]


def _substring_search(messages: QuerySet[Message], query: str, limit: int) -> list[SearchHit]:
    terms = logic.search_terms(query)
    if not terms:
        return []
    for term in terms:
        messages = messages.filter(body__icontains=term)
    return [
        SearchHit(message=row, snippet=logic.highlight(logic.marked_snippet(row.body, terms)))
        for row in messages.order_by("-id")[:limit]
    ]
