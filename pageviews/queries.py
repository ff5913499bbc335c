"""Reads."""

from collections.abc import Iterable
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User as Viewer
from django.db.models import CharField, Count, Q, Value
from django.db.models.functions import Concat, TruncMinute
from django.urls import Resolver404, resolve, reverse

from chat.models import Message
from chat.queries.rooms import room_readable, rooms_readable_by
from pageviews.models import MinuteViews, PageCounter

User = get_user_model()


def page_shown_to(*, user: Viewer, path: str, room_checked: str | None = None) -> bool:
    """Whether `user` may hear the counters and "here now" of `path`: a room's page only if
    they may read the room (the counters of a private room tell who is in it and how busy it
    is). Paths that are no page have no counters to tell. `room_checked`: the slug of a room
    whose access the caller checks anyway (a room page's socket), not read twice."""
    try:
        match = resolve(path.split("?", 1)[0])
    except Resolver404:
        return True
    if match.view_name != "chat:room" or match.kwargs["slug"] == room_checked:
        return True
    return room_readable(user=user, slug=match.kwargs["slug"]) is not None


def page_views(*, path: str) -> int:
    views = PageCounter.objects.filter(path=path).values_list("views", flat=True).first()
    return views or 0


def page_views_for(*, paths: Iterable[str]) -> dict[str, int]:
    return dict(PageCounter.objects.filter(path__in=list(paths)).values_list("path", "views"))


def top_pages(*, limit: int) -> list[PageCounter]:
    """The most viewed pages that every signed-in person may read. The list is pushed to
    every viewer of /stats/ alike, so a private room's or a direct conversation's page is
    left out for everyone, its members included: its name and its traffic are its own. So is
    the page of a room that no longer exists (a reset removed it): it may have been private."""
    # Someone who is a member of nothing reads exactly the rooms everyone may read.
    everyone = rooms_readable_by(user=User())
    before, _, after = reverse("chat:room", kwargs={"slug": "0"}).rpartition("0")
    readable = everyone.annotate(
        page=Concat(Value(before), "slug", Value(after), output_field=CharField())
    ).values("page")
    # The only counted pages under the rooms' prefix are rooms (pageviews.logic.COUNTED_PAGES).
    room_page = Q(path__startswith=before) & ~Q(path__in=readable)
    return list(PageCounter.objects.exclude(room_page).order_by("-views", "path")[:limit])


def views_per_minute(*, since: int) -> dict[int, int]:
    """Views of the whole site by minute (seconds since the epoch) from `since` on."""
    rows = MinuteViews.objects.filter(minute__gte=_at(since)).values_list("minute", "views")
    return {int(minute.timestamp()): views for minute, views in rows}


def messages_per_minute(*, since: int) -> dict[int, int]:
    """Messages by minute in the rooms everyone signed in may read: the chart is the same for
    every viewer, so a private room's or a conversation's traffic is not in it."""
    everyone = rooms_readable_by(user=User())
    rows = (
        Message.objects.filter(created_at__gte=_at(since), room__in=everyone)
        .annotate(minute=TruncMinute("created_at"))
        .values("minute")
        .annotate(count=Count("id"))
        .values_list("minute", "count")
    )
    return {int(minute.timestamp()): count for minute, count in rows}


def _at(epoch_seconds: int) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC)
