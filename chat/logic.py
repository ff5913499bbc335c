"""Chat rules as pure functions: values in, values out."""

import uuid

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


def parse_cursor(raw: object) -> int:
    """A message id the page has seen (0 for none)."""
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise Invalid("“after” must be a message id.")
    try:
        cursor = int(raw)
    except ValueError:
        raise Invalid("“after” must be a message id.") from None
    if not 0 <= cursor <= LARGEST_ID:
        raise Invalid("“after” must be a message id.")
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
    return name, slug
