"""Pageview rules as pure functions: values in, values out."""

import hashlib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PAGE_PATH_MAX_LENGTH = 200
HIT = "pageview.hit"
STATS_GROUP = "pageviews.stats"
STATS_PAGE = "stats"
# Requests under these never count as views of a page.
UNCOUNTED_PREFIXES = ("/admin/", "/metrics", "/static/", "/ws/")
# The pages that are counted, by URL name: pages whose paths are bounded by what exists (a
# room that 200s is one the viewer may read). Pages a visitor can invent paths for (a
# password-reset link, a message id, an invitation id) are not, or anyone could add counter
# rows without bound.
COUNTED_PAGES = frozenset(
    {
        "chat:index",
        "chat:room",
        "chat:search",
        "profile",
        "notifications:inbox",
        "pageviews:stats",
        "login",
        "signup",
        "password_reset",
    }
)


class Invalid(ValueError):
    """Input refused, with a message for the person who sent it."""


def clean_page_path(raw: object) -> str:
    if not isinstance(raw, str) or not raw.startswith("/") or raw.startswith("//"):
        raise Invalid("The page must be a path on this site, like /rooms/general/.")
    if len(raw) > PAGE_PATH_MAX_LENGTH:
        raise Invalid(f"Page paths are at most {PAGE_PATH_MAX_LENGTH} characters.")
    if any(ch.isspace() or not ch.isprintable() for ch in raw):
        raise Invalid("Page paths cannot contain spaces or control characters.")
    return raw


def page_digest(path: str) -> str:
    # Group names allow only a few characters and 100 of them; paths allow more.
    return hashlib.sha256(path.encode()).hexdigest()[:24]


def page_group_name(path: str) -> str:
    return f"pageviews.page.{page_digest(path)}"


def page_space(path: str) -> str:
    """The presence space of the people with this page open."""
    return f"page.{page_digest(path)}"


def counted(
    *, method: str, status: int, content_type: str, htmx: bool, path: str, page: str
) -> bool:
    """Whether a response is a view of a page: a full HTML page that loaded, of one of the
    COUNTED_PAGES (`page` is the URL name the request resolved to, "" if none)."""
    return (
        page in COUNTED_PAGES
        and method == "GET"
        and status == 200
        and content_type.startswith("text/html")
        and not htmx
        and not path.startswith(UNCOUNTED_PREFIXES)
        and len(path) <= PAGE_PATH_MAX_LENGTH
    )


def hit_message(path: str, at: float) -> dict[str, Any]:
    return {"type": HIT, "path": path, "at": at}


def parse_hit(message: Mapping[str, Any]) -> tuple[str, float] | None:
    """The path and time of a hit from the channel layer, or None if it is malformed."""
    at = message.get("at")
    if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
        return None
    try:
        return clean_page_path(message.get("path")), float(at)
    except Invalid:
        return None


def minute_of(at: float) -> int:
    """The start of the minute `at` falls in, in seconds since the epoch."""
    return int(at // 60) * 60


@dataclass(frozen=True)
class Batch:
    """Coalesced hits: views per page and per minute, saved in one transaction."""

    views: Mapping[str, int]
    minutes: Mapping[int, int]

    def __bool__(self) -> bool:
        return bool(self.views)


@dataclass
class Tally:
    """Hits received since the last flush."""

    views: Counter[str] = field(default_factory=Counter)
    minutes: Counter[int] = field(default_factory=Counter)

    def add(self, path: str, at: float) -> None:
        self.views[path] += 1
        self.minutes[minute_of(at)] += 1

    def restore(self, batch: Batch) -> None:
        """Put back a batch that could not be saved, to be saved with the next one."""
        self.views.update(batch.views)
        self.minutes.update(batch.minutes)

    def drain(self) -> Batch:
        batch = Batch(views=dict(self.views), minutes=dict(self.minutes))
        self.views.clear()
        self.minutes.clear()
        return batch


def due(*, now: float, last: float | None, every: float) -> bool:
    return last is None or now - last >= every


def minute_series(
    counts: Mapping[int, int], *, end_minute: int, minutes: int
) -> list[tuple[int, int]]:
    """(minute, count) for each of the `minutes` minutes up to `end_minute`, gaps as 0."""
    start = end_minute - (minutes - 1) * 60
    return [(minute, counts.get(minute, 0)) for minute in range(start, end_minute + 1, 60)]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int


def chart_top(values: Sequence[int]) -> int:
    """The value at the top of the chart: the largest, rounded up to 1, 2 or 5 times a power
    of ten."""
    largest = max(values, default=0)
    if largest <= 0:
        return 1
    magnitude: int = 10 ** len(str(largest)) // 10
    return next(step * magnitude for step in (1, 2, 5, 10) if largest <= step * magnitude)


def bars(values: Sequence[int], *, top: int, width: float, height: float) -> list[Bar]:
    if not values:
        return []
    slot = width / len(values)
    gap = min(2.0, slot / 4)
    result = []
    for index, value in enumerate(values):
        bar_height = height * min(value, top) / top
        result.append(
            Bar(
                x=round(index * slot + gap / 2, 2),
                y=round(height - bar_height, 2),
                width=round(slot - gap, 2),
                height=round(bar_height, 2),
                value=value,
            )
        )
    return result


def line_points(values: Sequence[int], *, top: int, width: float, height: float) -> str:
    """An SVG polyline's points through the middle of each slot."""
    if not values:
        return ""
    slot = width / len(values)
    return " ".join(
        f"{round(index * slot + slot / 2, 2)},{round(height - height * min(v, top) / top, 2)}"
        for index, v in enumerate(values)
    )
