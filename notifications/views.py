from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from notifications import actions, queries
from notifications.models import Notification
from realtime.http import AuthedHttpRequest
from realtime.sockets.urls import socket_url
from realtime.text import shows_nothing
from realtime.validation import Invalid, parse_id

TEMPLATE = "notifications/inbox.html"
ANNOUNCEMENT_MAX_LENGTH = 1000


def _page(request: AuthedHttpRequest, before_id: int | None) -> dict[str, object]:
    return queries.inbox_page(
        user_id=request.user.pk, before_id=before_id, limit=settings.NOTIFICATIONS_PAGE_SIZE
    )


def _bell(request: AuthedHttpRequest) -> str:
    unread = queries.unread_count_for(user_id=request.user.pk)
    return render_to_string(f"{TEMPLATE}#bell", {"unread_count": unread, "oob": True})


@login_required
@require_GET
def inbox(request: AuthedHttpRequest) -> HttpResponse:
    context = {**_page(request, None), "socket_url": socket_url(page="inbox")}
    return render(request, TEMPLATE, context)


@login_required
@require_GET
def older(request: AuthedHttpRequest) -> HttpResponse:
    try:
        before_id = parse_id(request.GET.get("before"), field="before", noun="notification")
    except Invalid as error:
        return HttpResponse(str(error), status=400)
    return render(request, f"{TEMPLATE}#older", {**_page(request, before_id), "oob": True})


def _item_response(request: AuthedHttpRequest, notification: Notification | None) -> HttpResponse:
    """The changed item for the tab that clicked, and the badge; other tabs hear by push."""
    item = render_to_string(f"{TEMPLATE}#item", {"notification": notification}, request)
    return HttpResponse(item + _bell(request))


@login_required
@require_POST
def mark_read(request: AuthedHttpRequest, notification_id: int) -> HttpResponse:
    notification = Notification.objects.filter(id=notification_id, recipient=request.user).first()
    if notification is None:
        return HttpResponse("No such notification.", status=404)
    actions.notification_mark_read(user=request.user, notification_id=notification_id)
    notification.refresh_from_db()
    return _item_response(request, notification)


@login_required
@require_POST
def mark_all_read(request: AuthedHttpRequest) -> HttpResponse:
    actions.notifications_mark_all_read(user=request.user)
    page = render_to_string(f"{TEMPLATE}#list", _page(request, None), request)
    return HttpResponse(page + _bell(request))


@login_required
@require_POST
def dismiss(request: AuthedHttpRequest, announcement_id: int) -> HttpResponse:
    actions.announcement_dismiss(user=request.user, announcement_id=announcement_id)
    notification = (
        Notification.objects.filter(announcement_id=announcement_id, recipient=request.user)
        .select_related("actor")
        .first()
    )
    banner = render_to_string(
        f"{TEMPLATE}#banner",
        {"announcement": queries.unread_announcement_for(user_id=request.user.pk), "oob": True},
        request,
    )
    item = (
        render_to_string(f"{TEMPLATE}#item", {"notification": notification}, request)
        if notification
        else ""
    )
    return HttpResponse(item + banner + _bell(request))


@login_required
@require_http_methods(["GET", "POST"])
def announce(request: AuthedHttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        # Answered, not raised: a raised PermissionDenied logs a traceback for a plain refusal.
        refusal = {"exception": "Only staff can make announcements."}
        return render(request, "403.html", refusal, status=403)
    body = request.POST.get("body", "").strip()
    error = ""
    if request.method == "POST":
        if shows_nothing(body):
            error = "Write the announcement first."
        elif len(body) > ANNOUNCEMENT_MAX_LENGTH:
            error = f"Announcements are at most {ANNOUNCEMENT_MAX_LENGTH:,} characters."
        else:
            actions.announcement_publish(author=request.user, body=body)
            messages.success(request, "Announcement published to everyone.")
            return redirect("notifications:announce")
    context = {"body": body, "error": error, "max_length": ANNOUNCEMENT_MAX_LENGTH}
    return render(request, "notifications/announce.html", context, status=422 if error else 200)
