"""Reads. Every decision about who may read a room goes through `rooms_readable_by`."""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import (
    CharField,
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    prefetch_related_objects,
)
from django.db.models.functions import Cast, Coalesce, Concat, StrIndex
from django.utils.safestring import SafeString

from accounts.models import Block
from chat import logic
from chat.logic import TranscriptLine
from chat.models import (
    Attachment,
    Invitation,
    LinkPreview,
    Membership,
    Message,
    MessageChange,
    ReadCursor,
    Room,
    TranscriptExport,
)
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


_MEMBER_NAMES = Prefetch("members", queryset=User.objects.only("id", "username"))


def sidebar_rooms(*, user: User) -> list[Room]:
    """The rooms in `user`'s sidebar: public ones and their own private rooms and direct
    conversations (with their members, to name a conversation after the other person)."""
    return list(rooms_readable_by(user=user).prefetch_related(_MEMBER_NAMES).order_by("name"))


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


# What the message partial shows besides the text: read with the messages, not one by one.
MESSAGE_RELATED = ("author", "link_preview", "attachment")


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
        _visible(messages, hidden_author_ids)
        .select_related(*MESSAGE_RELATED)
        .order_by("id")[: limit + 1]
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
    visible = _visible(messages, hidden_author_ids).select_related(*MESSAGE_RELATED)
    return list(visible.order_by("id")[:limit])


def room_messages_before(
    *, room_id: int, before_id: int | None, limit: int, hidden_author_ids: Collection[int] = ()
) -> tuple[list[Message], bool]:
    """Up to `limit` messages older than `before_id` (or the latest), oldest first, and
    whether even older ones exist. Messages by `hidden_author_ids` are left out."""
    messages = _visible(Message.objects.filter(room_id=room_id), hidden_author_ids)
    if before_id is not None:
        messages = messages.filter(id__lt=before_id)
    page = list(messages.select_related(*MESSAGE_RELATED).order_by("-id")[: limit + 1])
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
        *MESSAGE_RELATED
    )
    by_id = {message.id: message for message in found}
    return [by_id[message_id] for message_id in ids if message_id in by_id]


def users_by_id(*, ids: Iterable[int]) -> list[User]:
    """The people with these ids, by username."""
    return list(User.objects.filter(pk__in=list(ids)).order_by("username"))


def rooms_followed_by(*, user: User) -> QuerySet[Room]:
    """The readable rooms whose unread count the user sees: every private room and direct
    conversation they belong to, from its first message, and the public rooms they have
    opened (a public room never opened is all new, so it has no count)."""
    opened = ReadCursor.objects.filter(user_id=user.pk).values("room_id")
    return rooms_readable_by(user=user).filter(~Q(kind=Room.Kind.PUBLIC) | Q(id__in=opened))


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
        _visible(messages, hidden_author_ids).select_related("author").order_by("id")[: limit + 1]
    )
    return page[:limit], len(page) > limit


def read_cursor_for(*, user_id: int, room_id: int) -> int:
    """The newest message id the user has read in the room (0 for none)."""
    cursor = ReadCursor.objects.filter(user_id=user_id, room_id=room_id)
    return cursor.values_list("last_read_id", flat=True).first() or 0


def _by_blocked_authors(user_id: int) -> Q:
    """Messages whose authors `user_id` blocked (accounts.Block): hidden from them."""
    return Q(author__blocks_received__blocker_id=user_id)


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
        .exclude(_by_blocked_authors(user_id))
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
        .exclude(_by_blocked_authors(user.pk))
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
        .exclude(_by_blocked_authors(user.pk))
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


@dataclass(frozen=True)
class SearchHit:
    message: Message
    snippet: SafeString  # escaped, with the matches in <mark>


def message_search(*, user: User, query: str, limit: int) -> tuple[list[SearchHit], bool]:
    """Messages matching `query` in the rooms `user` can read, best first, and whether there
    were more than `limit`; deleted messages and those by people `user` blocked are left
    out. PostgreSQL ranks full-text matches (GIN-indexed, see migration 0005); other
    databases match every word as a substring, newest first."""
    messages = (
        Message.objects.filter(room__in=rooms_readable_by(user=user), deleted_at__isnull=True)
        .exclude(_by_blocked_authors(user.pk))
        .select_related("room", "author")
    )
    if connection.vendor == "postgresql":
        hits = _full_text_search(messages, query, limit + 1)
    else:
        hits = _substring_search(messages, query, limit + 1)
    # A direct conversation is shown under the other person's name.
    prefetch_related_objects(
        [hit.message.room for hit in hits if hit.message.room.is_direct], _MEMBER_NAMES
    )
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


def link_preview_get(*, preview_id: int) -> LinkPreview | None:
    return LinkPreview.objects.filter(id=preview_id).select_related("message").first()


def attachment_get(*, attachment_id: int) -> Attachment | None:
    return (
        Attachment.objects.filter(id=attachment_id)
        .select_related("message", "message__room")
        .first()
    )


def _shown_to(user: User) -> Q:
    """For rows hanging off a message: the message is in a room `user` may read now, is not
    deleted, and is not by someone `user` blocked."""
    return Q(message__room__in=rooms_readable_by(user=user), message__deleted_at__isnull=True) & ~Q(
        message__author_id__in=Block.objects.filter(blocker_id=user.pk).values("blocked_id")
    )


def link_preview_readable(*, user: User, preview_id: int) -> LinkPreview | None:
    return LinkPreview.objects.filter(_shown_to(user), id=preview_id).first()


def attachment_readable(*, user: User, attachment_id: int) -> Attachment | None:
    return Attachment.objects.filter(_shown_to(user), id=attachment_id).first()


def export_get(*, export_id: int) -> TranscriptExport | None:
    return (
        TranscriptExport.objects.filter(id=export_id).select_related("room", "requested_by").first()
    )


def _own_exports(user: User) -> QuerySet[TranscriptExport]:
    """`user`'s exports of rooms they may still read: leaving a room leaves its transcripts."""
    return TranscriptExport.objects.filter(
        requested_by_id=user.pk, room__in=rooms_readable_by(user=user)
    ).select_related("room")


def export_for_download(*, export_id: int, user: User) -> TranscriptExport | None:
    """A finished export, only for the person who asked for it, while they may read its room."""
    return _own_exports(user).filter(id=export_id, status=TranscriptExport.Status.READY).first()


def exports_for(*, room_id: int, user_id: int, limit: int = 5) -> list[TranscriptExport]:
    return list(
        TranscriptExport.objects.filter(room_id=room_id, requested_by_id=user_id)
        .select_related("room")
        .order_by("-id")[:limit]
    )


def exports_unfinished_count(*, user_id: int) -> int:
    return TranscriptExport.objects.filter(
        requested_by_id=user_id,
        status__in=[TranscriptExport.Status.PENDING, TranscriptExport.Status.RUNNING],
    ).count()


def _transcript_messages(room_id: int, hidden_author_ids: Collection[int]) -> QuerySet[Message]:
    """What a transcript holds: the room's messages as its reader sees them, without deleted
    ones or those by people the reader blocked."""
    messages = Message.objects.filter(room_id=room_id, deleted_at__isnull=True)
    return _visible(messages, hidden_author_ids)


def room_message_count(*, room_id: int, hidden_author_ids: Collection[int] = ()) -> int:
    return _transcript_messages(room_id, hidden_author_ids).count()


def transcript_lines_after(
    *, room_id: int, after_id: int, limit: int, hidden_author_ids: Collection[int] = ()
) -> list[TranscriptLine]:
    rows = (
        _transcript_messages(room_id, hidden_author_ids)
        .filter(id__gt=after_id)
        .order_by("id")
        .values_list("id", "created_at", "author__username", "body")[:limit]
    )
    return [
        TranscriptLine(id=id_, sent_at=sent_at, author=author, body=body)
        for id_, sent_at, author, body in rows
    ]


def task_results_for(
    *, user: User, room_slug: str | None, message_ids: list[int], export_ids: list[int]
) -> tuple[list[LinkPreview], list[Attachment], list[TranscriptExport]]:
    """The current previews and attachments of these messages (in the room the page shows,
    if `user` may read it now) and `user`'s own exports among these: what a page still waiting
    on them needs. Anything else asked for is left out, as if it did not exist."""
    previews: list[LinkPreview] = []
    attachments: list[Attachment] = []
    if room_slug and message_ids:
        shown = _shown_to(user) & Q(message_id__in=message_ids, message__room__slug=room_slug)
        previews = list(LinkPreview.objects.filter(shown))
        attachments = list(Attachment.objects.filter(shown))
    exports = list(_own_exports(user).filter(id__in=export_ids)) if export_ids else []
    return previews, attachments, exports
