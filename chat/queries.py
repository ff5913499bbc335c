from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db.models import Q

from chat.models import Message, Room


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


def users_by_id(*, ids: Iterable[int]) -> list[User]:
    """The people with these ids, by username."""
    return list(User.objects.filter(pk__in=list(ids)).order_by("username"))
