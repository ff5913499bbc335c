"""Live pushes. Each renders its partial once and sends it to one group."""

import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from pageviews import logic, queries
from realtime.push import apush_html, push_html

COUNTERS = "pageviews/counters.html"
STATS = "pageviews/stats.html"
CHART_MINUTES = 30
CHART_WIDTH = 600
CHART_HEIGHT = 160
TOP_PAGES = 10


def views_html(views: int) -> str:
    return render_to_string(f"{COUNTERS}#views", {"page_views": views, "oob": True})


def here_html(people: int) -> str:
    return render_to_string(f"{COUNTERS}#here", {"here_now": people, "oob": True})


def counters_changed(paths: Sequence[str]) -> None:
    """After a batch is saved: each page's viewers get its new total, once per batch."""
    for path, views in sorted(queries.page_views_for(paths=paths).items()):
        push_html(logic.page_group_name(path), views_html(views))


async def here_now_changed(path: str, people: int) -> None:
    await apush_html(logic.page_group_name(path), here_html(people))


def stats_path() -> str:
    return reverse("pageviews:stats")


def stats_context(*, connections: int, people: int, now: float | None = None) -> dict[str, Any]:
    end = logic.minute_of(time.time() if now is None else now)
    since = end - (CHART_MINUTES - 1) * 60
    views = logic.minute_series(
        queries.views_per_minute(since=since), end_minute=end, minutes=CHART_MINUTES
    )
    messages = logic.minute_series(
        queries.messages_per_minute(since=since), end_minute=end, minutes=CHART_MINUTES
    )
    view_counts = [count for _, count in views]
    message_counts = [count for _, count in messages]
    top = logic.chart_top(view_counts + message_counts)
    size = {"top": top, "width": CHART_WIDTH, "height": CHART_HEIGHT}
    return {
        "connections": connections,
        "people": people,
        "views_now": view_counts[-1],
        "messages_now": message_counts[-1],
        "views_total": sum(view_counts),
        "messages_total": sum(message_counts),
        "chart_minutes": CHART_MINUTES,
        "chart": {
            **size,
            "bars": logic.bars(view_counts, **size),
            "line": logic.line_points(message_counts, **size),
            "first_minute": views[0][0],
            "last_minute": views[-1][0],
        },
        "top_pages": queries.top_pages(limit=TOP_PAGES),
        "refresh_seconds": settings.STATS_PUSH_SECONDS,
    }


def stats_html(*, connections: int, people: int) -> str:
    context = stats_context(connections=connections, people=people)
    return render_to_string(f"{STATS}#stats", {**context, "oob": True})


def stats_changed(*, connections: int, people: int) -> None:
    push_html(logic.STATS_GROUP, stats_html(connections=connections, people=people))
