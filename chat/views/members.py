"""Who is in a private room: invitations, leaving, removing members."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts import queries as people
from chat.actions import rooms as room_actions
from chat.limits import TooFast, send_spend
from chat.logic import Forbidden
from chat.queries import rooms as room_queries
from chat.views.layout import forbidden, layout_context, readable_room_or_404
from realtime.http import AuthedHttpRequest
from realtime.validation import Invalid


@login_required
@require_POST
def invite(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    current = readable_room_or_404(request, slug)
    name = request.POST.get("username", "").strip()
    invitee = people.person_get(username=name) if name else None
    context: dict[str, Any] = {"room": current, "invitee_name": name}
    try:
        if invitee is None:
            raise Invalid(
                f"No one is called “{name}”." if name else "Type the name of the person to invite."
            )
        # Each invitation notifies someone else: the inviter's budget pays for it.
        send_spend(request.user.pk)
        room_actions.invitation_create(room=current, inviter=request.user, invitee=invitee)
    except Invalid as error:
        # The form comes back with the reason and the name kept: 429 when over the budget,
        # else 422.
        return render(
            request,
            "chat/room.html#invite-form",
            {**context, "invite_error": str(error)},
            status=429 if isinstance(error, TooFast) else 422,
        )
    if request.htmx:
        return render(
            request, "chat/room.html#invite-form", {"room": current, "invited": invitee.username}
        )
    return redirect(current)


@login_required
@require_POST
def leave(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    current = readable_room_or_404(request, slug)
    try:
        room_actions.membership_end(room=current, member=request.user, by=request.user)
    except Invalid as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    return redirect("chat:index")


@login_required
@require_POST
def member_remove(request: AuthedHttpRequest, slug: str, username: str) -> HttpResponse:
    current = readable_room_or_404(request, slug)
    member = people.person_get(username=username)
    if member is None or not room_queries.is_member(user=member, room=current):
        raise Http404("No such member.")
    try:
        room_actions.membership_end(room=current, member=member, by=request.user)
    except Forbidden as error:
        return forbidden(error)
    except Invalid as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    return redirect(current)


@login_required
@require_GET
def invitation(request: AuthedHttpRequest, invitation_id: int) -> HttpResponse:
    found = room_queries.invitation_for(user=request.user, invitation_id=invitation_id)
    if found is None:
        raise Http404("No such invitation.")
    return render(request, "chat/invitation.html", {**layout_context(request), "invitation": found})


@login_required
@require_POST
def invitation_answer(request: AuthedHttpRequest, invitation_id: int, accept: bool) -> HttpResponse:
    found = room_queries.invitation_for(user=request.user, invitation_id=invitation_id)
    if found is None:
        raise Http404("No such invitation.")
    if accept:
        joined = room_actions.invitation_accept(invitation=found, user=request.user)
        return redirect(joined)
    room_actions.invitation_decline(invitation=found, user=request.user)
    return redirect("chat:index")
