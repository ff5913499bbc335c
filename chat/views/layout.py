"""What every chat page shares: the room it shows, the sidebar, and the answers to refusals."""

from typing import Any

from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django_htmx.http import reswap

from chat import logic
from chat.logic import ROOMS_PAGE, TOO_FAST, Forbidden
from chat.models import Message, Room
from chat.queries import messages as message_queries
from chat.queries import rooms as room_queries
from chat.queries import unread as unread_queries
from realtime.http import AuthedHttpRequest
from realtime.sockets.urls import socket_url
from realtime.validation import parse_id

NO_SUCH_ROOM = "No such room."


def readable_room_or_404(request: AuthedHttpRequest, slug: str) -> Room:
    # A private room someone may not read answers exactly like a missing one.
    room = room_queries.room_readable(user=request.user, slug=slug)
    if room is None:
        raise Http404(NO_SUCH_ROOM)
    return room


def readable_message_or_404(request: AuthedHttpRequest, message_id: int) -> Message:
    message = message_queries.message_readable(user=request.user, message_id=message_id)
    if message is None:
        raise Http404("No such message.")
    return message


def layout_context(request: AuthedHttpRequest, current_room: Room | None = None) -> dict[str, Any]:
    """The sidebar: the viewer's rooms with their unread counts, and a socket that keeps the
    counts current (a room page passes its own, which does that too)."""
    return {
        "rooms": room_queries.sidebar_rooms(user=request.user),
        "current_room": current_room,
        "unread_states": unread_queries.unread_states_for(user=request.user),
        "socket_url": socket_url(page=ROOMS_PAGE),
        "search_max_length": logic.SEARCH_QUERY_MAX_LENGTH,
    }


def optional_id(request: AuthedHttpRequest, field: str) -> int | None:
    raw = request.GET.get(field)
    return None if raw in (None, "") else parse_id(raw, field=field)


def forbidden(error: Forbidden) -> HttpResponse:
    return HttpResponse(str(error), status=403, content_type="text/plain; charset=utf-8")


def too_fast(request: AuthedHttpRequest) -> HttpResponse:
    """429 for a request over the person's budget (chat.limits) that has no form to show it
    in: the page's error line says so, and the element the request targets stays as it was."""
    if not request.htmx:
        return HttpResponse(TOO_FAST, status=429, content_type="text/plain; charset=utf-8")
    notice = render_to_string("frontend/base.html#socket-error", {"socket_error": TOO_FAST})
    return reswap(HttpResponse(notice, status=429), "none")
