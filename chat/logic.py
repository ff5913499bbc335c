"""Chat rules as pure functions: values in, values out."""

import re
import uuid
from collections.abc import Callable, Iterable, Mapping

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from realtime.text import shows_nothing
from realtime.validation import Invalid, parse_cursor

ROOM_NAME_MAX_LENGTH = 60
# Embeddings, overrides and isolates: a room's name is shown inside other text (the room
# list, invitations, search results), where one left open turns what follows it around, and
# "\u202elareneG" reads as "General".
DIRECTION_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


class Forbidden(Invalid):
    """The person may see the thing but not do this to it."""


NOT_A_MEMBER = "You are not a member of this room any more."


def room_group_name(room_id: int) -> str:
    return f"chat.room.{room_id}"


LOBBY_GROUP = "chat.lobby"

# The page socket of a page with the room list but no room (`?page=rooms`).
ROOMS_PAGE = "rooms"


SLOW_DOWN = "You are sending messages too fast. Wait a moment, then send again."
# The same budget (chat.limits), spent by an edit, a delete, a new room or an invitation.
TOO_FAST = "You are going too fast. Wait a moment, then try again."


def clean_body(raw: object, *, max_length: int) -> str:
    if not isinstance(raw, str):
        raise Invalid("Type a message first.")
    # NUL is invisible, and PostgreSQL cannot store it in text.
    body = raw.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()
    # Zero-width characters alone would post a message that shows nothing.
    if shows_nothing(body):
        raise Invalid("Type a message first.")
    if len(body) > max_length:
        raise Invalid(
            f"That message is {len(body):,} characters long; the limit is {max_length:,}."
        )
    return body


def parse_client_id(raw: object) -> uuid.UUID | None:
    if raw in (None, ""):
        return None
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise Invalid("That send had a malformed client id; reload the page.") from None


def clean_room_name(raw: object) -> tuple[str, str]:
    """The room's display name and its URL slug."""
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid("Give the room a name.")
    name = " ".join(raw.split())
    if len(name) > ROOM_NAME_MAX_LENGTH:
        raise Invalid(f"Room names are at most {ROOM_NAME_MAX_LENGTH} characters.")
    if DIRECTION_CONTROLS.search(name):
        raise Invalid("Room names cannot hold characters that change the direction of text.")
    slug = slugify(name)
    if not slug:
        raise Invalid("Room names need at least one letter or digit.")
    if slug.startswith(DIRECT_SLUG_PREFIX):
        raise Invalid(f"Room names may not start with “{DIRECT_SLUG_PREFIX}”.")
    return name, slug


# Direct conversations are rooms too, named after their two members' ids so that there is
# exactly one per pair; the prefix is reserved, so no other room can take such a name.
DIRECT_SLUG_PREFIX = "dm-"


def direct_slug(user_id: int, other_id: int) -> str:
    low, high = sorted((user_id, other_id))
    return f"{DIRECT_SLUG_PREFIX}{low}-{high}"


def direct_partner(member_names: Mapping[int, str], viewer_id: int) -> str:
    """The name a direct conversation goes by for `viewer_id`: the other person's."""
    others = [name for member_id, name in member_names.items() if member_id != viewer_id]
    return others[0] if others else "yourself"


# How many of its newest message ids a page reports when it resumes (see parse_shown_ids).
RESUME_SHOWN_LIMIT = 50


def parse_shown_ids(raw: object) -> list[int]:
    """The ids of the newest messages a resuming page shows (`have`), at most
    RESUME_SHOWN_LIMIT of them; missing means none. The server fills the holes between them:
    a message lost on its way while a newer one, from another process, arrived first."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > RESUME_SHOWN_LIMIT:
        raise Invalid(f"“have” must be a list of at most {RESUME_SHOWN_LIMIT} message ids.")
    return sorted({parse_cursor(item, name="have") for item in raw})


def latest_changes(changes: Iterable[tuple[int, int]], *, skip_after: int) -> list[int]:
    """From (change id, message id) pairs in change order, the changed message ids ordered by
    their latest change, each once, leaving out messages newer than `skip_after` (those are
    replayed whole, as they are now)."""
    latest: dict[int, int] = {}
    for change_id, message_id in changes:
        if message_id <= skip_after:
            latest[message_id] = change_id
    return sorted(latest, key=latest.__getitem__)


def may_edit(*, author_id: int, editor_id: int) -> bool:
    return author_id == editor_id


def may_delete(*, author_id: int, deleter_id: int, deleter_is_staff: bool) -> bool:
    return author_id == deleter_id or deleter_is_staff


def may_remove_member(
    *, member_id: int, remover_id: int, owner_id: int | None, remover_is_staff: bool
) -> bool:
    """Anyone may leave; the room's creator and staff may remove others."""
    return member_id == remover_id or remover_id == owner_id or remover_is_staff


def room_space(room_id: int) -> str:
    """The presence space of the people with the room open."""
    return f"room.{room_id}"


def room_activity_group_name(room_id: int) -> str:
    """Pages with the room list, of everyone who can read the room: one small signal per
    message, the same for every viewer, from which each page counts its own unread."""
    return f"chat.activity.{room_id}"


def reader_group_name(user_id: int) -> str:
    """One person's tabs that show the room list: their read cursors' changes."""
    return f"user.{user_id}.reader"


UNREAD_LABEL_LIMIT = 99

# People named in a room's "Here now"; its count covers everyone. Every change is pushed to
# everyone in the room, so the list must not grow with the room.
PRESENCE_NAMED = 30


def unread_label(count: int) -> str:
    return f"{UNREAD_LABEL_LIMIT}+" if count > UNREAD_LABEL_LIMIT else str(count)


def window_split(limit: int) -> tuple[int, int]:
    """How many messages to show before an anchored message, and how many from it on."""
    before = limit // 2
    return before, limit - before


SEARCH_QUERY_MAX_LENGTH = 200
SEARCH_RESULTS_LIMIT = 50
SEARCH_CANDIDATES = 1000  # PostgreSQL ranks the newest this many matches


def clean_search_query(raw: object, *, max_length: int = SEARCH_QUERY_MAX_LENGTH) -> str:
    if not isinstance(raw, str):
        raise Invalid("Type something to search for.")
    query = " ".join(raw.split())
    if not query:
        raise Invalid("Type something to search for.")
    if len(query) > max_length:
        raise Invalid(f"Searches are at most {max_length} characters; that one is {len(query)}.")
    return query


def search_terms(query: str) -> list[str]:
    """The words of a search, lowercased, each once, without quotes and operators."""
    seen: dict[str, None] = {}
    for word in query.lower().split():
        word = word.strip("\"'").lstrip("-")
        if word and word != "or":
            seen.setdefault(word, None)
    return list(seen)


# Put around matches in snippets before escaping, then turned into <mark> by highlight().
# Private-use characters, so they never mean anything in a message.
MARK_START = "\ue000"
MARK_STOP = "\ue001"


def marked_snippet(body: str, terms: list[str], *, width: int = 160) -> str:
    """About `width` characters of `body` around the first match of any term, each match
    wrapped in MARK_START/MARK_STOP, an ellipsis where the text was cut."""
    flat = " ".join(body.replace(MARK_START, "").replace(MARK_STOP, "").split())
    lowered = flat.lower()
    found = [i for i in (lowered.find(term) for term in terms if term) if i >= 0]
    first = min(found, default=0)
    start = max(0, min(first - width // 3, len(flat) - width))
    end = min(len(flat), start + width)
    if start > 0:
        # Start at a word boundary rather than mid-word.
        space = flat.find(" ", start, first) if first > start else -1
        start = space + 1 if space >= 0 else start
    window = flat[start:end]
    spans = _match_spans(window.lower(), terms)
    marked = []
    cursor = 0
    for begin, stop in spans:
        marked += [window[cursor:begin], MARK_START, window[begin:stop], MARK_STOP]
        cursor = stop
    marked.append(window[cursor:])
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    return prefix + "".join(marked) + suffix


def _match_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Where the terms occur in `text`, merged where they overlap, in order."""
    spans: list[tuple[int, int]] = []
    for term in terms:
        if not term:
            continue
        at = text.find(term)
        while at >= 0:
            spans.append((at, at + len(term)))
            at = text.find(term, at + len(term))
    merged: list[tuple[int, int]] = []
    for begin, stop in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((begin, stop))
    return merged


def highlight(marked: str) -> SafeString:
    """Escaped HTML of a snippet whose matches are wrapped in MARK_START/MARK_STOP: each
    complete pair becomes <mark>…</mark>, and stray markers are dropped."""
    html: list[str] = []
    first, *rest = marked.split(MARK_START)
    html.append(escape(first.replace(MARK_STOP, "")))
    for segment in rest:
        inside, stop, after = segment.partition(MARK_STOP)
        if stop:
            html.append(f"<mark>{escape(inside)}</mark>{escape(after.replace(MARK_STOP, ''))}")
        else:
            html.append(escape(inside))
    return mark_safe("".join(html))  # noqa: S308 - every part of it is escaped


# Mentions ----------------------------------------------------------------------------------

# "@name" where the @ starts a word (after whitespace, an opening bracket, or the start), so
# e-mail addresses and URLs like https://host/@name are not mentions. Usernames may contain
# letters, digits and . + - _ ; a trailing full stop or dash belongs to the sentence.
MENTION = re.compile(r"(?<![^\s(\[{])@([\w.+-]*[\w+])")
EXCERPT_LENGTH = 140  # of a message, quoted in the notification about it


def mentioned_names(text: str) -> list[str]:
    """Names mentioned in `text`, lowercased, each once, in order of appearance."""
    seen: dict[str, None] = {}
    for match in MENTION.finditer(text):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)


def link_mentions(escaped: str, names: Iterable[str], url_for: Callable[[str], str]) -> str:
    """Turn @name into a link for each known name in already-escaped HTML text.

    `names` are canonical usernames; matching ignores case, and unknown names stay text.
    """
    canonical = {name.lower(): name for name in names}
    if not canonical:
        return escaped

    def link(match: re.Match[str]) -> str:
        name = canonical.get(match.group(1).lower())
        if name is None:
            return match.group(0)
        return f'<a class="mention" href="{url_for(name)}">@{name}</a>'

    return MENTION.sub(link, escaped)


def excerpt(text: str, *, length: int = EXCERPT_LENGTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"
