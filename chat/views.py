import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from chat import actions, logic, queries
from chat.consumers import ROOMS_PAGE
from chat.models import Room
from realtime.http import AuthedHttpRequest
from realtime.sockets import socket_url


def _room_or_404(slug: str) -> Room:
    room = queries.room_get(slug=slug)
    if room is None:
        raise Http404("No such room.")
    return room


def _layout_context(current_room: Room | None = None) -> dict[str, Any]:
    return {"rooms": queries.room_list(), "current_room": current_room}


def _sidebar_context(
    request: AuthedHttpRequest, current_room: Room | None = None
) -> dict[str, Any]:
    """The layout with the viewer's unread counts, and a socket that keeps them current."""
    return {
        **_layout_context(current_room),
        "unread_states": queries.unread_states_for(user=request.user),
        "socket_url": socket_url(page=ROOMS_PAGE),
        "search_max_length": logic.SEARCH_QUERY_MAX_LENGTH,
    }


def _optional_id(request: AuthedHttpRequest, field: str) -> int | None:
    raw = request.GET.get(field)
    return None if raw in (None, "") else logic.parse_id(raw, field=field)


@login_required
@require_GET
def index(request: AuthedHttpRequest) -> HttpResponse:
    return render(request, "chat/index.html", _sidebar_context(request))


@login_required
@require_GET
def room(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    """The room page: the latest messages, or those around `?around=<message id>`."""
    current = _room_or_404(slug)
    if not queries.room_readable_by(user=request.user, room_id=current.id):
        raise Http404("No such room.")
    try:
        around = _optional_id(request, "around")
        unread_from = _optional_id(request, "unread_from")
    except logic.Invalid as error:
        return HttpResponse(str(error), status=400)
    if around is not None and not queries.room_message_get(room_id=current.id, message_id=around):
        messages.info(request, "That message is no longer here; these are the latest.")
        around = None
    if around is None:
        history = _latest_history(request, current)
    else:
        history = _history_around(current, around, unread_from)
    sidebar = _sidebar_context(request, current)
    unread = sidebar["unread_states"].get(current.id)
    first_unread = history["first_unread_id"]
    context = {
        **sidebar,
        **history,
        "room": current,
        "first_unread_shown": any(m.id == first_unread for m in history["history"]),
        "room_unread_count": unread.count if unread and first_unread else 0,
        "client_id": uuid.uuid4(),
        "max_length": settings.CHAT_MESSAGE_MAX_LENGTH,
        "socket_url": socket_url(room=current.slug),
    }
    return render(request, "chat/room.html", context)


def _latest_history(request: AuthedHttpRequest, current: Room) -> dict[str, Any]:
    history, has_older = queries.room_messages_before(
        room_id=current.id, before_id=None, limit=settings.CHAT_PAGE_SIZE
    )
    read_id = queries.read_cursor_for(user_id=request.user.pk, room_id=current.id)
    first_unread = queries.room_first_unread_id(
        user_id=request.user.pk, room_id=current.id, read_id=read_id
    )
    return {
        "history": history,
        "has_older": has_older,
        "has_newer": False,
        "around": None,
        "newest_id": None,
        "first_unread_id": first_unread,
    }


def _history_around(current: Room, around: int, unread_from: int | None) -> dict[str, Any]:
    history, has_older, has_newer = queries.room_messages_around(
        room_id=current.id, message_id=around, limit=settings.CHAT_PAGE_SIZE
    )
    return {
        "history": history,
        "has_older": has_older,
        "has_newer": has_newer,
        "around": around,
        # Where the gap between this history and the live log ends: the messages up to it
        # load with "Load newer", new ones arrive live after it.
        "newest_id": queries.room_newest_id(room_id=current.id) if has_newer else None,
        "first_unread_id": unread_from,
    }


@login_required
@require_GET
def older(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    current = _room_or_404(slug)
    try:
        before_id = int(request.GET["before"])
    except (KeyError, ValueError):
        return HttpResponse("“before” must be a message id.", status=400)
    try:
        first_unread = _optional_id(request, "unread_from")
    except logic.Invalid as error:
        return HttpResponse(str(error), status=400)
    if not queries.room_readable_by(user=request.user, room_id=current.id):
        raise Http404("No such room.")
    history, has_older = queries.room_messages_before(
        room_id=current.id, before_id=before_id, limit=settings.CHAT_PAGE_SIZE
    )
    return render(
        request,
        "chat/room.html#older",
        {
            "room": current,
            "history": history,
            "has_older": has_older,
            "first_unread_id": first_unread,
        },
    )


@login_required
@require_GET
def newer(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    """The messages between an anchored page and the live log, a page at a time."""
    current = _room_or_404(slug)
    try:
        after_id = logic.parse_id(request.GET.get("after"), field="after")
        until_id = logic.parse_id(request.GET.get("until"), field="until")
        first_unread = _optional_id(request, "unread_from")
    except logic.Invalid as error:
        return HttpResponse(str(error), status=400)
    if not queries.room_readable_by(user=request.user, room_id=current.id):
        raise Http404("No such room.")
    history, has_newer = queries.room_messages_between(
        room_id=current.id, after_id=after_id, until_id=until_id, limit=settings.CHAT_PAGE_SIZE
    )
    context = {
        "room": current,
        "history": history,
        "has_newer": has_newer,
        "newest_id": until_id,
        "first_unread_id": first_unread,
    }
    return render(request, "chat/room.html#newer", context)


@login_required
@require_GET
def search(request: AuthedHttpRequest) -> HttpResponse:
    """Messages in the rooms the viewer can read. The full page, or (from the search box,
    as you type) only the results."""
    raw = request.GET.get("q")
    context: dict[str, Any] = {"query": raw or "", "hits": [], "more": False, "error": ""}
    status = 200
    if raw is not None:
        try:
            query = logic.clean_search_query(raw)
        except logic.Invalid as error:
            context["error"] = str(error)
            status = 422
        else:
            hits, more = queries.message_search(
                user=request.user, query=query, limit=logic.SEARCH_RESULTS_LIMIT
            )
            context.update(query=query, hits=hits, more=more, searched=True)
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "chat/search.html#results", context, status=status)
    page = {**_sidebar_context(request), **context, "search_page": True}
    return render(request, "chat/search.html", page, status=status)


@login_required
@require_POST
def room_create(request: AuthedHttpRequest) -> HttpResponse:
    raw_name = request.POST.get("name", "")
    try:
        name, slug = logic.clean_room_name(raw_name)
        created = actions.room_create(name=name, slug=slug, created_by=request.user)
    except logic.Invalid as error:
        context = {
            **_sidebar_context(request),
            "room_form_error": str(error),
            "room_name": raw_name,
        }
        template = "chat/layout.html#room-form" if request.htmx else "chat/index.html"
        return render(request, template, context, status=422)
    if request.htmx:
        return HttpResponseClientRedirect(created.get_absolute_url())
    return redirect(created)
