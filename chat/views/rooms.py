"""Pages of rooms and direct conversations: the room list, a room's history, a new room."""

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts import queries as people
from chat import logic
from chat.actions import rooms as room_actions
from chat.exports import queries as export_queries
from chat.limits import TooFast, send_spend
from chat.logic import Forbidden
from chat.models import Room
from chat.queries import messages as message_queries
from chat.queries import rooms as room_queries
from chat.queries import unread as unread_queries
from chat.views.layout import forbidden, layout_context, optional_id, readable_room_or_404
from demo import actions as demo
from demo.models import Use
from realtime.http import AuthedHttpRequest, client_address
from realtime.sockets.urls import socket_url
from realtime.validation import Invalid, parse_id


@login_required
@require_GET
def index(request: AuthedHttpRequest) -> HttpResponse:
    context = {
        **layout_context(request),
        "public_rooms": room_queries.public_rooms(),
        "invitations": room_queries.invitations_for(user=request.user),
    }
    return render(request, "chat/index.html", context)


@login_required
@require_GET
def room(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    """The room page: the latest messages, or those around `?around=<message id>`."""
    current = readable_room_or_404(request, slug)
    try:
        around = optional_id(request, "around")
        unread_from = optional_id(request, "unread_from")
    except Invalid as error:
        return HttpResponse(str(error), status=400)
    hidden = people.blocked_ids_for(user_id=request.user.pk)
    if around is not None:
        anchor = message_queries.room_message_get(room_id=current.id, message_id=around)
        if anchor is None or anchor.author_id in hidden:
            messages.info(request, "That message is no longer here; these are the latest.")
            around = None
    layout = layout_context(request, current)
    # The cursor is read before the history: a change in between is replayed, never missed.
    change_cursor = message_queries.room_change_cursor(room_id=current.id)
    if around is None:
        history = _latest_history(request, current, hidden)
    else:
        history = _history_around(current, around, unread_from, hidden)
    unread = layout["unread_states"].get(current.id)
    first_unread = history["first_unread_id"]
    members = [] if current.is_public else room_queries.room_members(room=current)
    context = {
        **layout,
        **history,
        "room": current,
        "room_title": (
            logic.direct_partner({m.pk: m.username for m in members}, request.user.pk)
            if current.is_direct
            else current.name
        ),
        "members": members if current.kind == Room.Kind.PRIVATE else [],
        "may_remove": request.user.is_staff or current.created_by_id == request.user.pk,
        "first_unread_shown": any(m.id == first_unread for m in history["history"]),
        "room_unread_count": unread.count if unread and first_unread else 0,
        "change_cursor": change_cursor,
        "client_id": uuid.uuid4(),
        "attach_client_id": uuid.uuid4(),
        "max_length": settings.CHAT_MESSAGE_MAX_LENGTH,
        "socket_url": socket_url(room=current.slug),
        "exports": export_queries.exports_for(room_id=current.id, user_id=request.user.pk),
    }
    return render(request, "chat/room.html", context)


def _latest_history(request: AuthedHttpRequest, current: Room, hidden: list[int]) -> dict[str, Any]:
    history, has_older = message_queries.room_messages_before(
        room_id=current.id,
        before_id=None,
        limit=settings.CHAT_PAGE_SIZE,
        hidden_author_ids=hidden,
    )
    read_id = unread_queries.read_cursor_for(user_id=request.user.pk, room_id=current.id)
    first_unread = unread_queries.room_first_unread_id(
        user_id=request.user.pk, room_id=current.id, read_id=read_id, followed=not current.is_public
    )
    return {
        "history": history,
        "has_older": has_older,
        "has_newer": False,
        "around": None,
        "newest_id": None,
        "first_unread_id": first_unread,
    }


def _history_around(
    current: Room, around: int, unread_from: int | None, hidden: list[int]
) -> dict[str, Any]:
    history, has_older, has_newer = message_queries.room_messages_around(
        room_id=current.id,
        message_id=around,
        limit=settings.CHAT_PAGE_SIZE,
        hidden_author_ids=hidden,
    )
    return {
        "history": history,
        "has_older": has_older,
        "has_newer": has_newer,
        "around": around,
        # Where the gap between this history and the live log ends: the messages up to it
        # load with "Load newer", new ones arrive live after it.
        "newest_id": message_queries.room_newest_id(room_id=current.id) if has_newer else None,
        "first_unread_id": unread_from,
    }


@login_required
@require_GET
def older(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    current = readable_room_or_404(request, slug)
    try:
        before_id = parse_id(request.GET.get("before"), field="before")
        first_unread = optional_id(request, "unread_from")
    except Invalid as error:
        return HttpResponse(str(error), status=400)
    history, has_older = message_queries.room_messages_before(
        room_id=current.id,
        before_id=before_id,
        limit=settings.CHAT_PAGE_SIZE,
        hidden_author_ids=people.blocked_ids_for(user_id=request.user.pk),
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
    current = readable_room_or_404(request, slug)
    try:
        after_id = parse_id(request.GET.get("after"), field="after")
        until_id = parse_id(request.GET.get("until"), field="until")
        first_unread = optional_id(request, "unread_from")
    except Invalid as error:
        return HttpResponse(str(error), status=400)
    history, has_newer = message_queries.room_messages_between(
        room_id=current.id,
        after_id=after_id,
        until_id=until_id,
        limit=settings.CHAT_PAGE_SIZE,
        hidden_author_ids=people.blocked_ids_for(user_id=request.user.pk),
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
@require_POST
def room_create(request: AuthedHttpRequest) -> HttpResponse:
    raw_name = request.POST.get("name", "")
    private = request.POST.get("private") == "1"
    try:
        name, slug = logic.clean_room_name(raw_name)
        # A public room is announced to every chat page: the creator's budget pays for it.
        send_spend(request.user.pk)
        address = client_address(request)
        demo.use_check(kind=Use.Kind.ROOM, user=request.user, address=address)
        created = room_actions.room_create(
            name=name, slug=slug, created_by=request.user, private=private
        )
        demo.use_record(kind=Use.Kind.ROOM, user=request.user, address=address)
    except Invalid as error:
        context = {
            **layout_context(request),
            "room_form_error": str(error),
            "room_name": raw_name,
            "room_private": private,
        }
        template = "chat/layout.html#room-form" if request.htmx else "chat/index.html"
        status = 429 if isinstance(error, TooFast) else 422
        return render(request, template, context, status=status)
    if request.htmx:
        return HttpResponseClientRedirect(created.get_absolute_url())
    return redirect(created)


@login_required
@require_POST
def direct_open(request: AuthedHttpRequest, username: str) -> HttpResponse:
    other = people.person_get(username=username)
    if other is None:
        raise Http404("No such person.")
    try:
        conversation = room_actions.direct_open(user=request.user, other=other)
    except Forbidden as error:
        return forbidden(error)
    except Invalid as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    return redirect(conversation)
