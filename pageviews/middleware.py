"""Counting a view without making the request wait for it."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from asgiref.sync import async_to_sync, iscoroutinefunction
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware

from pageviews import logic
from pageviews.consumers import ensure_embedded_worker
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
    )


async def send_hit(path: str) -> None:
    """At most once: a full channel or an unreachable layer loses this view, by design."""
    try:
        await get_channel_layer().send(
            settings.PAGEVIEWS_CHANNEL, logic.hit_message(path, time.time())
        )
    except ChannelFull:
        metrics.PAGEVIEWS_DROPPED.inc()
    except Exception:
        metrics.PAGEVIEWS_DROPPED.inc()
        logger.warning("Could not send a pageview", exc_info=True)


def send_hit_soon(path: str) -> None:
    ensure_embedded_worker()
    task = asyncio.get_running_loop().create_task(send_hit(path))
    _sending.add(task)
    task.add_done_callback(_sending.discard)


@sync_and_async_middleware
def count_pageviews(
    get_response: Callable[[HttpRequest], HttpResponseBase]
    | Callable[[HttpRequest], Awaitable[HttpResponseBase]],
) -> (
    Callable[[HttpRequest], HttpResponseBase] | Callable[[HttpRequest], Awaitable[HttpResponseBase]]
):
    """Under ASGI (Daphne, runserver with daphne) the send is scheduled on the event loop and
    the response leaves at once. Under WSGI, which Relay does not use but Django's test client
    does, there is no loop to leave it on, so it is sent before returning."""
    if iscoroutinefunction(get_response):
        async_get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = get_response

        async def middleware(request: HttpRequest) -> HttpResponseBase:
            response = await async_get_response(request)
            if countable(request, response):
                send_hit_soon(request.path)
            return response

        return middleware

    sync_get_response: Callable[[HttpRequest], HttpResponseBase] = get_response  # type: ignore[assignment]

    def sync_middleware(request: HttpRequest) -> HttpResponseBase:
        response = sync_get_response(request)
        if countable(request, response):
            async_to_sync(send_hit)(request.path)
        return response

    return sync_middleware
