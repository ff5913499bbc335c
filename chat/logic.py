"""Chat rules as pure functions: values in, values out."""

import uuid
from collections.abc import Iterable, Mapping

from django.utils.text import slugify

ROOM_NAME_MAX_LENGTH = 60


class Invalid(ValueError):
    """Input a person sent that the chat refuses; the message is shown to them."""


def room_group_name(room_id: int) -> str:
    return f"chat.room.{room_id}"


LOBBY_GROUP = "chat.lobby"


SLOW_DOWN = "You are sending messages too fast. Wait a moment, then send again."


def clean_body(raw: object, *, max_length: int) -> str:
    if not isinstance(raw, str):
        raise Invalid("Type a message first.")
    # NUL is invisible, and PostgreSQL cannot store it in text.
    body = raw.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
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


# Message ids are 64-bit (BigAutoField); anything larger fits no database column.
LARGEST_ID = 2**63 - 1


def parse_cursor(raw: object, *, name: str = "after") -> int:
    """A message (or change) id the page has seen (0 for none)."""
    error = f"“{name}” must be a message id." if name == "after" else f"“{name}” must be an id."
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise Invalid(error)
    try:
        cursor = int(raw)
    except ValueError:
        raise Invalid(error) from None
    if not 0 <= cursor <= LARGEST_ID:
        raise Invalid(error)
    return cursor


def clean_room_name(raw: object) -> tuple[str, str]:
    """The room's display name and its URL slug."""
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid("Give the room a name.")
    name = " ".join(raw.split())
    if len(name) > ROOM_NAME_MAX_LENGTH:
        raise Invalid(f"Room names are at most {ROOM_NAME_MAX_LENGTH} characters.")
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


def parse_message_id(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise Invalid("That is not a message id.")
    try:
        message_id = int(raw)
    except ValueError:
        raise Invalid("That is not a message id.") from None
    if message_id <= 0:
        raise Invalid("That is not a message id.")
    return message_id


def parse_optional_cursor(raw: object, *, name: str) -> int | None:
    """A cursor the page may leave out (a page from before that stream was resumable)."""
    return None if raw is None else parse_cursor(raw, name=name)


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
