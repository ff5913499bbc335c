"""Chat rules as pure functions: values in, values out."""

import uuid
from dataclasses import dataclass

from django.utils.text import slugify

ROOM_NAME_MAX_LENGTH = 60


class Invalid(ValueError):
    """Input a person sent that the chat refuses; the message is shown to them."""


def room_group_name(room_id: int) -> str:
    return f"chat.room.{room_id}"


LOBBY_GROUP = "chat.lobby"


@dataclass
class TokenBucket:
    """Allows `burst` sends at once, then `rate` per second."""

    rate: float
    burst: float
    tokens: float
    updated: float

    @classmethod
    def full(cls, *, rate: float, burst: float, now: float) -> "TokenBucket":
        return cls(rate=rate, burst=burst, tokens=burst, updated=now)

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def is_full(self, now: float) -> bool:
        return self.tokens + max(0.0, now - self.updated) * self.rate >= self.burst


SLOW_DOWN = "You are sending messages too fast. Wait a moment, then send again."


def clean_body(raw: object, *, max_length: int) -> str:
    if not isinstance(raw, str):
        raise Invalid("Type a message first.")
    body = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
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


def parse_cursor(raw: object) -> int:
    """A message id the page has seen (0 for none)."""
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise Invalid("“after” must be a message id.")
    try:
        cursor = int(raw)
    except ValueError:
        raise Invalid("“after” must be a message id.") from None
    if cursor < 0:
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


def room_space(room_id: int) -> str:
    """The presence space of the people with the room open."""
    return f"room.{room_id}"


def typing_due(*, last: float | None, now: float, every: float) -> bool:
    """Whether a typing signal may reach the room again (at most one per `every` seconds)."""
    return last is None or now - last >= every
