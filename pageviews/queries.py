"""Reads."""

from collections.abc import Iterable
from datetime import UTC, datetime

from django.db.models import Count
from django.db.models.functions import TruncMinute

from chat.models import Message
from pageviews.models import MinuteViews, PageCounter


def page_views(*, path: str) -> int:
    views = PageCounter.objects.filter(path=path).values_list("views", flat=True).first()
    return views or 0


def page_views_for(*, paths: Iterable[str]) -> dict[str, int]:
    return dict(PageCounter.objects.filter(path__in=list(paths)).values_list("path", "views"))


def top_pages(*, limit: int) -> list[PageCounter]:
    return list(PageCounter.objects.order_by("-views", "path")[:limit])


def views_per_minute(*, since: int) -> dict[int, int]:
    """Views of the whole site by minute (seconds since the epoch) from `since` on."""
    rows = MinuteViews.objects.filter(minute__gte=_at(since)).values_list("minute", "views")
    return {int(minute.timestamp()): views for minute, views in rows}


def messages_per_minute(*, since: int) -> dict[int, int]:
    rows = (
        Message.objects.filter(created_at__gte=_at(since))
        .annotate(minute=TruncMinute("created_at"))
        .values("minute")
        .annotate(count=Count("id"))
        .values_list("minute", "count")
    )
    return {int(minute.timestamp()): count for minute, count in rows}


def _at(epoch_seconds: int) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC)
