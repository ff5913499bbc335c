import time
import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts import queries as people
from chat import actions, images, logic, queries
from chat.consumers import ROOMS_PAGE
from chat.images import THUMBNAIL_TYPE
from chat.models import Message, Room
from demo import actions as demo
from demo.models import Use
from realtime.http import AuthedHttpRequest, client_address
from realtime.limits import BucketMap
from realtime.sockets.urls import socket_url

NO_SUCH_ROOM = "No such room."


def _readable_room_or_404(request: AuthedHttpRequest, slug: str) -> Room:
    # A private room someone may not read answers exactly like a missing one.
    room = queries.room_readable(user=request.user, slug=slug)
    if room is None:
        raise Http404(NO_SUCH_ROOM)
    return room


def _readable_message_or_404(request: AuthedHttpRequest, message_id: int) -> Message:
    message = queries.message_readable(user=request.user, message_id=message_id)
    if message is None:
        raise Http404("No such message.")
    return message


def _layout_context(request: AuthedHttpRequest, current_room: Room | None = None) -> dict[str, Any]:
    """The sidebar: the viewer's rooms with their unread counts, and a socket that keeps the
    counts current (a room page passes its own, which does that too)."""
    return {
        "rooms": queries.sidebar_rooms(user=request.user),
        "current_room": current_room,
        "unread_states": queries.unread_states_for(user=request.user),
        "socket_url": socket_url(page=ROOMS_PAGE),
        "search_max_length": logic.SEARCH_QUERY_MAX_LENGTH,
    }


def _optional_id(request: AuthedHttpRequest, field: str) -> int | None:
    raw = request.GET.get(field)
    return None if raw in (None, "") else logic.parse_id(raw, field=field)


def _forbidden(error: actions.Forbidden) -> HttpResponse:
    return HttpResponse(str(error), status=403, content_type="text/plain; charset=utf-8")


@login_required
@require_GET
def index(request: AuthedHttpRequest) -> HttpResponse:
    context = {
        **_layout_context(request),
        "public_rooms": queries.public_rooms(),
        "invitations": queries.invitations_for(user=request.user),
    }
    return render(request, "chat/index.html", context)


@login_required
@require_GET
def room(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    """The room page: the latest messages, or those around `?around=<message id>`."""
    current = _readable_room_or_404(request, slug)
    try:
        around = _optional_id(request, "around")
        unread_from = _optional_id(request, "unread_from")
    except logic.Invalid as error:
        return HttpResponse(str(error), status=400)
    hidden = people.blocked_ids_for(user_id=request.user.pk)
    if around is not None:
        anchor = queries.room_message_get(room_id=current.id, message_id=around)
        if anchor is None or anchor.author_id in hidden:
            messages.info(request, "That message is no longer here; these are the latest.")
            around = None
    layout = _layout_context(request, current)
    # The cursor is read before the history: a change in between is replayed, never missed.
    change_cursor = queries.room_change_cursor(room_id=current.id)
    if around is None:
        history = _latest_history(request, current, hidden)
    else:
        history = _history_around(current, around, unread_from, hidden)
    unread = layout["unread_states"].get(current.id)
    first_unread = history["first_unread_id"]
    members = [] if current.is_public else queries.room_members(room=current)
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
        "exports": queries.exports_for(room_id=current.id, user_id=request.user.pk),
    }
    return render(request, "chat/room.html", context)


def _latest_history(request: AuthedHttpRequest, current: Room, hidden: list[int]) -> dict[str, Any]:
    history, has_older = queries.room_messages_before(
        room_id=current.id,
        before_id=None,
        limit=settings.CHAT_PAGE_SIZE,
        hidden_author_ids=hidden,
    )
    read_id = queries.read_cursor_for(user_id=request.user.pk, room_id=current.id)
    first_unread = queries.room_first_unread_id(
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
    history, has_older, has_newer = queries.room_messages_around(
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
        "newest_id": queries.room_newest_id(room_id=current.id) if has_newer else None,
        "first_unread_id": unread_from,
    }


@login_required
@require_GET
def older(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    current = _readable_room_or_404(request, slug)
    try:
        before_id = int(request.GET["before"])
    except (KeyError, ValueError):
        return HttpResponse("“before” must be a message id.", status=400)
    try:
        first_unread = _optional_id(request, "unread_from")
    except logic.Invalid as error:
        return HttpResponse(str(error), status=400)
    history, has_older = queries.room_messages_before(
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
    current = _readable_room_or_404(request, slug)
    try:
        after_id = logic.parse_id(request.GET.get("after"), field="after")
        until_id = logic.parse_id(request.GET.get("until"), field="until")
        first_unread = _optional_id(request, "unread_from")
    except logic.Invalid as error:
        return HttpResponse(str(error), status=400)
    history, has_newer = queries.room_messages_between(
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
    page = {**_layout_context(request), **context, "search_page": True}
    return render(request, "chat/search.html", page, status=status)


@login_required
@require_POST
def room_create(request: AuthedHttpRequest) -> HttpResponse:
    raw_name = request.POST.get("name", "")
    private = request.POST.get("private") == "1"
    try:
        name, slug = logic.clean_room_name(raw_name)
        address = client_address(request)
        demo.use_check(kind=Use.Kind.ROOM, user=request.user, address=address)
        created = actions.room_create(
            name=name, slug=slug, created_by=request.user, private=private
        )
        demo.use_record(kind=Use.Kind.ROOM, user=request.user, address=address)
    except logic.Invalid as error:
        context = {
            **_layout_context(request),
            "room_form_error": str(error),
            "room_name": raw_name,
            "room_private": private,
        }
        template = "chat/layout.html#room-form" if request.htmx else "chat/index.html"
        return render(request, template, context, status=422)
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
        conversation = actions.direct_open(user=request.user, other=other)
    except actions.Forbidden as error:
        return _forbidden(error)
    except logic.Invalid as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    return redirect(conversation)


@login_required
@require_POST
def invite(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    current = _readable_room_or_404(request, slug)
    name = request.POST.get("username", "").strip()
    invitee = people.person_get(username=name) if name else None
    context: dict[str, Any] = {"room": current, "invitee_name": name}
    try:
        if invitee is None:
            raise logic.Invalid(
                f"No one is called “{name}”." if name else "Type the name of the person to invite."
            )
        actions.invitation_create(room=current, inviter=request.user, invitee=invitee)
    except logic.Invalid as error:
        # 422 for every refusal: the form comes back with the reason and the name kept.
        return render(
            request,
            "chat/room.html#invite-form",
            {**context, "invite_error": str(error)},
            status=422,
        )
    if request.htmx:
        return render(
            request, "chat/room.html#invite-form", {"room": current, "invited": invitee.username}
        )
    return redirect(current)


@login_required
@require_POST
def leave(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    current = _readable_room_or_404(request, slug)
    try:
        actions.membership_end(room=current, member=request.user, by=request.user)
    except logic.Invalid as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    return redirect("chat:index")


@login_required
@require_POST
def member_remove(request: AuthedHttpRequest, slug: str, username: str) -> HttpResponse:
    current = _readable_room_or_404(request, slug)
    member = people.person_get(username=username)
    if member is None or not queries.is_member(user=member, room=current):
        raise Http404("No such member.")
    try:
        actions.membership_end(room=current, member=member, by=request.user)
    except actions.Forbidden as error:
        return _forbidden(error)
    except logic.Invalid as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    return redirect(current)


@login_required
@require_GET
def invitation(request: AuthedHttpRequest, invitation_id: int) -> HttpResponse:
    found = queries.invitation_for(user=request.user, invitation_id=invitation_id)
    if found is None:
        raise Http404("No such invitation.")
    return render(
        request, "chat/invitation.html", {**_layout_context(request), "invitation": found}
    )


@login_required
@require_POST
def invitation_answer(request: AuthedHttpRequest, invitation_id: int, accept: bool) -> HttpResponse:
    found = queries.invitation_for(user=request.user, invitation_id=invitation_id)
    if found is None:
        raise Http404("No such invitation.")
    if accept:
        joined = actions.invitation_accept(invitation=found, user=request.user)
        return redirect(joined)
    actions.invitation_decline(invitation=found, user=request.user)
    return redirect("chat:index")


def _message_html(request: AuthedHttpRequest, message: Message, status: int = 200) -> HttpResponse:
    return render(request, "chat/room.html#message", {"message": message}, status=status)


@login_required
@require_GET
def message(request: AuthedHttpRequest, message_id: int) -> HttpResponse:
    found = _readable_message_or_404(request, message_id)
    # The same rule as the history: a message by someone the viewer blocked is not shown.
    if found.author_id in people.blocked_ids_for(user_id=request.user.pk):
        raise Http404("No such message.")
    return _message_html(request, found)


@login_required
@require_http_methods(["GET", "POST"])
def message_edit(request: AuthedHttpRequest, message_id: int) -> HttpResponse:
    found = _readable_message_or_404(request, message_id)
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
        edited = actions.message_edit(message=found, editor=request.user, body=body)
    except actions.Forbidden as error:
        return _forbidden(error)
    except logic.Invalid as error:
        editor = {**context, "edit_body": raw, "edit_error": str(error)}
        return render(request, "chat/room.html#message-editor", editor, status=422)
    return _message_html(request, edited)


@login_required
@require_POST
def message_delete(request: AuthedHttpRequest, message_id: int) -> HttpResponse:
    found = _readable_message_or_404(request, message_id)
    try:
        deleted = actions.message_delete(message=found, deleter=request.user)
    except actions.Forbidden as error:
        return _forbidden(error)
    return _message_html(request, deleted)


# Image attachments, link preview images, transcript exports ---------------------------------

# Room for the multipart framing and the caption around the image itself.
UPLOAD_OVERHEAD = 64 * 1024
# A budget per person for uploads, as sockets have for their costly actions.
upload_buckets = BucketMap(capacity=settings.SOCKET_LIMIT_KEYS)
UPLOADING_TOO_FAST = "You are uploading too fast. Wait a few seconds, then try again."
# Served files come from uploads: never let a browser run or sniff them as anything else.
# Nor keep them: access is checked on every request, so someone who leaves a private room (or
# whose message is deleted) does not keep its images in a cache.
FILE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-cache",
}


class TooFast(logic.Invalid):
    """Over the person's upload budget: nothing was read or saved; the same form may retry."""


def _attach_form(
    request: AuthedHttpRequest,
    room: Room,
    *,
    error: str = "",
    caption: str = "",
    client_id: uuid.UUID | None = None,
    status: int = 200,
) -> HttpResponse:
    """The form, ready for the next image (a new client id) or, after an error, for this one
    again (the same: nothing was saved under it)."""
    context = {
        "room": room,
        "attach_error": error,
        "caption": caption,
        "attach_client_id": client_id or uuid.uuid4(),
    }
    return render(request, "chat/room.html#attach-form", context, status=status)


@login_required
@require_POST
def attachment_upload(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    current = _readable_room_or_404(request, slug)
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    caption = ""
    client_id = None
    try:
        # Refused before the body is read: an oversized upload is never stored anywhere.
        if declared > settings.ATTACHMENT_MAX_BYTES + UPLOAD_OVERHEAD:
            refusal = logic.upload_size_refusal(declared, max_bytes=settings.ATTACHMENT_MAX_BYTES)
            raise logic.Invalid(refusal or "That file is too large.")
        # The form's idempotency key: an upload sent again (after an error or a lost answer)
        # returns the message saved the first time instead of posting it twice.
        client_id = logic.parse_client_id(request.POST.get("client_id"))
        caption = request.POST.get("caption", "").strip()
        if caption:
            caption = logic.clean_body(caption, max_length=settings.CHAT_MESSAGE_MAX_LENGTH)
        upload = request.FILES.get("image")
        if upload is None:
            raise logic.Invalid("Choose an image to attach.")
        max_bytes = settings.ATTACHMENT_MAX_BYTES
        refusal = logic.upload_size_refusal(upload.size or 0, max_bytes=max_bytes)
        if refusal:
            raise logic.Invalid(refusal)
        # Before the costly part (decoding, storing): the budget of the person.
        if not upload_buckets.take(
            str(request.user.pk),
            rate=settings.ATTACHMENT_UPLOAD_RATE,
            burst=settings.ATTACHMENT_UPLOAD_BURST,
            now=time.monotonic(),
        ):
            raise TooFast(UPLOADING_TOO_FAST)
        address = client_address(request)
        demo.use_check(kind=Use.Kind.UPLOAD, user=request.user, address=address)
        decoded = images.decode_image(upload, max_pixels=settings.ATTACHMENT_MAX_PIXELS)
        actions.message_post_with_image(
            room=current,
            author=request.user,
            body=caption,
            upload=upload,
            decoded=decoded,
            size=upload.size or 0,
            client_id=client_id,
        )
        demo.use_record(kind=Use.Kind.UPLOAD, user=request.user, address=address)
    except logic.Invalid as error:
        if not request.htmx:
            messages.error(request, str(error))
            return redirect(current)
        status = 429 if isinstance(error, TooFast) else 422
        return _attach_form(
            request, current, error=str(error), caption=caption, client_id=client_id, status=status
        )
    if not request.htmx:
        return redirect(current)
    return _attach_form(request, current)


def _file_response(name: str, content_type: str) -> FileResponse:
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404("That file is gone.") from None
    response = FileResponse(handle, content_type=content_type)
    for header, value in FILE_HEADERS.items():
        response[header] = value
    return response


@login_required
@require_GET
def attachment_file(request: AuthedHttpRequest, attachment_id: int, kind: str) -> HttpResponseBase:
    # Only from a room the viewer may read now, and never once its message is deleted.
    attachment = queries.attachment_readable(user=request.user, attachment_id=attachment_id)
    if attachment is None or kind not in ("original", "thumbnail"):
        raise Http404("No such image.")
    if kind == "original":
        return _file_response(attachment.original, attachment.content_type)
    if not attachment.thumbnail:
        raise Http404("The thumbnail is not ready.")
    return _file_response(attachment.thumbnail, THUMBNAIL_TYPE)


@login_required
@require_GET
def preview_image(request: AuthedHttpRequest, preview_id: int) -> HttpResponseBase:
    preview = queries.link_preview_readable(user=request.user, preview_id=preview_id)
    if preview is None or not preview.image:
        raise Http404("No such image.")
    return _file_response(preview.image, THUMBNAIL_TYPE)


@login_required
@require_POST
def export_create(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    current = _readable_room_or_404(request, slug)
    try:
        export = actions.export_request(
            room=current, user=request.user, export_format=request.POST.get("format", "")
        )
    except logic.Invalid as error:
        if not request.htmx:
            messages.error(request, str(error))
            return redirect(current)
        context = {"room": current, "export_error": str(error)}
        return render(request, "chat/exports.html#export-error", context, status=422)
    if not request.htmx:
        return redirect(current)
    context = {"room": current, "export": export, "export_error": ""}
    return render(request, "chat/exports.html#created", context)


@login_required
@require_GET
def export_download(request: AuthedHttpRequest, export_id: int) -> HttpResponseBase:
    # Someone else's export, one not finished, or one of a room the person may no longer read
    # is simply not found.
    export = queries.export_for_download(export_id=export_id, user=request.user)
    if export is None:
        raise Http404("No such export.")
    try:
        handle = default_storage.open(export.file, "rb")
    except FileNotFoundError:
        raise Http404("That export file is gone.") from None
    content_type = "application/json" if export.format == "json" else "text/csv; charset=utf-8"
    response = FileResponse(
        handle, as_attachment=True, filename=export.filename, content_type=content_type
    )
    response["Cache-Control"] = "private, no-store"
    return response
