"""Counting a view without making the request wait for it."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from asgiref.sync import markcoroutinefunction
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from pageviews import logic
from realtime import metrics

logger = logging.getLogger(__name__)

# Sends under way; a task nobody references may be collected before it runs.
_sending: set["asyncio.Task[None]"] = set()


def countable(request: HttpRequest, response: HttpResponseBase) -> bool:
    return settings.PAGEVIEWS_COUNTING and logic.counted(
        method=request.method or "",
        status=response.status_code,
        content_type=response.get("Content-Type", ""),
        htmx=request.headers.get("HX-Request") == "true",
        path=request.path,
        page=request.resolver_match.view_name if request.resolver_match else "",
    )


async def send_hit(path: str) -> None:
    """At most once: a full channel or an unreachable layer loses this view, by design."""
    try:
        await get_channel_layer(settings.PAGEVIEWS_LAYER).send(
            settings.PAGEVIEWS_CHANNEL, logic.hit_message(path, time.time())
        )
    except ChannelFull:
        metrics.PAGEVIEWS_DROPPED.inc()
    except Exception:
        metrics.PAGEVIEWS_DROPPED.inc()
        logger.warning("Could not send a pageview", exc_info=True)


def send_hit_soon(path: str) -> None:
    # Eager: the send runs now up to its first real wait (with the in-memory layer it simply
    # finishes), and the rest happens after the response has left.
    task = asyncio.Task(send_hit(path), loop=asyncio.get_running_loop(), eager_start=True)
    if not task.done():
        _sending.add(task)
        task.add_done_callback(_sending.discard)


class CountPageviews:
    """Async only, and first in MIDDLEWARE: Django then calls it on the event loop even when
    middleware inside it is synchronous (which would otherwise make the whole chain
    synchronous, and the send a wait). The inner chain runs in Django's usual thread."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]]) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = await self.get_response(request)
        if countable(request, response):
            send_hit_soon(request.path)
        return response
