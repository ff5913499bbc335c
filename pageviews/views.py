from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from pageviews import events, logic
from pageviews.consumers import site_presence
from realtime.http import AuthedHttpRequest
from realtime.sockets.urls import socket_url


@login_required
@require_GET
async def stats(request: AuthedHttpRequest) -> HttpResponse:
    """Connections now, views and messages per minute, top pages; the socket keeps it live."""
    connections, people = await site_presence()

    def page() -> HttpResponse:
        context = {
            **events.stats_context(connections=connections, people=people),
            "socket_url": socket_url(page=logic.STATS_PAGE),
        }
        return render(request, "pageviews/stats.html", context)

    return await sync_to_async(page)()
