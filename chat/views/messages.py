"""One message: shown, edited, deleted."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import queries as people
from chat import logic
from chat.actions import messages as message_actions
from chat.limits import TooFast, send_spend
from chat.logic import Forbidden
from chat.models import Message
from chat.views.layout import forbidden, readable_message_or_404, too_fast
from realtime.http import AuthedHttpRequest
from realtime.validation import Invalid


def _message_html(request: AuthedHttpRequest, message: Message, status: int = 200) -> HttpResponse:
    return render(request, "chat/room.html#message", {"message": message}, status=status)


@login_required
@require_GET
def message(request: AuthedHttpRequest, message_id: int) -> HttpResponse:
    found = readable_message_or_404(request, message_id)
    # The same rule as the history: a message by someone the viewer blocked is not shown.
    if found.author_id in people.blocked_ids_for(user_id=request.user.pk):
        raise Http404("No such message.")
    return _message_html(request, found)


@login_required
@require_http_methods(["GET", "POST"])
def message_edit(request: AuthedHttpRequest, message_id: int) -> HttpResponse:
    found = readable_message_or_404(request, message_id)
    context = {"message": found, "max_length": settings.CHAT_MESSAGE_MAX_LENGTH}
    if request.method == "GET":
        if not logic.may_edit(author_id=found.author_id, editor_id=request.user.pk):
            return HttpResponse("You can only edit your own messages.", status=403)
        return render(
            request, "chat/room.html#message-editor", {**context, "edit_body": found.body}
        )
    raw = request.POST.get("body", "")
    try:
        body = logic.clean_body(raw, max_length=settings.CHAT_MESSAGE_MAX_LENGTH)
        # Before the lookups and the push to everyone in the room: the sender's budget.
        send_spend(request.user.pk)
        edited = message_actions.message_edit(message=found, editor=request.user, body=body)
    except Forbidden as error:
        return forbidden(error)
    except Invalid as error:
        # The editor comes back with the text as it was sent, to save again.
        editor = {**context, "edit_body": raw, "edit_error": str(error)}
        status = 429 if isinstance(error, TooFast) else 422
        return render(request, "chat/room.html#message-editor", editor, status=status)
    return _message_html(request, edited)


@login_required
@require_POST
def message_delete(request: AuthedHttpRequest, message_id: int) -> HttpResponse:
    found = readable_message_or_404(request, message_id)
    try:
        send_spend(request.user.pk)
        deleted = message_actions.message_delete(message=found, deleter=request.user)
    except TooFast:
        return too_fast(request)
    except Forbidden as error:
        return forbidden(error)
    return _message_html(request, deleted)
