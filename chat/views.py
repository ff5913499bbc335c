import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from chat import actions, logic, queries
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


@login_required
@require_GET
def index(request: AuthedHttpRequest) -> HttpResponse:
    return render(request, "chat/index.html", _layout_context())


@login_required
@require_GET
def room(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    current = _room_or_404(slug)
    history, has_older = queries.room_messages_before(
        room_id=current.id, before_id=None, limit=settings.CHAT_PAGE_SIZE
    )
    context = {
        **_layout_context(current),
        "room": current,
        "history": history,
        "has_older": has_older,
        "client_id": uuid.uuid4(),
        "max_length": settings.CHAT_MESSAGE_MAX_LENGTH,
        "socket_url": socket_url(room=current.slug),
    }
    return render(request, "chat/room.html", context)


@login_required
@require_GET
def older(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    current = _room_or_404(slug)
    try:
        before_id = int(request.GET["before"])
    except (KeyError, ValueError):
        return HttpResponse("“before” must be a message id.", status=400)
    history, has_older = queries.room_messages_before(
        room_id=current.id, before_id=before_id, limit=settings.CHAT_PAGE_SIZE
    )
    return render(
        request,
        "chat/room.html#older",
        {"room": current, "history": history, "has_older": has_older},
    )


@login_required
@require_POST
def room_create(request: AuthedHttpRequest) -> HttpResponse:
    raw_name = request.POST.get("name", "")
    try:
        name, slug = logic.clean_room_name(raw_name)
        created = actions.room_create(name=name, slug=slug, created_by=request.user)
    except logic.Invalid as error:
        context = {**_layout_context(), "room_form_error": str(error), "room_name": raw_name}
        template = "chat/layout.html#room-form" if request.htmx else "chat/index.html"
        return render(request, template, context, status=422)
    if request.htmx:
        return HttpResponseClientRedirect(created.get_absolute_url())
    return redirect(created)
