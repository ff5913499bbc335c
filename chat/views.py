import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from chat import actions, images, logic, queries
from chat.images import THUMBNAIL_TYPE
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
        "exports": queries.exports_for(room_id=current.id, user_id=request.user.pk),
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


# Image attachments, link preview images, transcript exports ---------------------------------

# Room for the multipart framing and the caption around the image itself.
UPLOAD_OVERHEAD = 64 * 1024
# Served files come from uploads: never let a browser run or sniff them as anything else.
FILE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, max-age=86400",
}


def _attach_form(
    request: AuthedHttpRequest, room: Room, *, error: str = "", caption: str = "", status: int = 200
) -> HttpResponse:
    context = {"room": room, "attach_error": error, "caption": caption}
    return render(request, "chat/room.html#attach-form", context, status=status)


@login_required
@require_POST
def attachment_upload(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    current = _room_or_404(slug)
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    caption = ""
    try:
        # Refused before the body is read: an oversized upload is never stored anywhere.
        if declared > settings.ATTACHMENT_MAX_BYTES + UPLOAD_OVERHEAD:
            refusal = logic.upload_size_refusal(declared, max_bytes=settings.ATTACHMENT_MAX_BYTES)
            raise logic.Invalid(refusal or "That file is too large.")
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
        decoded = images.decode_image(upload, max_pixels=settings.ATTACHMENT_MAX_PIXELS)
        actions.message_post_with_image(
            room=current,
            author=request.user,
            body=caption,
            upload=upload,
            decoded=decoded,
            size=upload.size or 0,
        )
    except logic.Invalid as error:
        if not request.htmx:
            messages.error(request, str(error))
            return redirect(current)
        return _attach_form(request, current, error=str(error), caption=caption, status=422)
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
    attachment = queries.attachment_get(attachment_id=attachment_id)
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
    preview = queries.link_preview_get(preview_id=preview_id)
    if preview is None or not preview.image:
        raise Http404("No such image.")
    return _file_response(preview.image, THUMBNAIL_TYPE)


@login_required
@require_POST
def export_create(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    current = _room_or_404(slug)
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
    # Someone else's export, or one not finished, is simply not found.
    export = queries.export_for_download(export_id=export_id, user_id=request.user.pk)
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
