"""Uploading an image with a message, and serving it and its thumbnail."""

import time
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from chat import logic
from chat.attachments import actions as attachment_actions
from chat.attachments import queries as attachment_queries
from chat.attachments.images import THUMBNAIL_TYPE, decode_image
from chat.attachments.logic import upload_size_refusal
from chat.logic import parse_client_id
from chat.models import Room
from chat.stored import file_response
from chat.views.layout import readable_room_or_404
from demo import actions as demo
from demo.models import Use
from realtime.http import AuthedHttpRequest, client_address
from realtime.limits import BucketMap
from realtime.text import shows_nothing
from realtime.validation import Invalid

# Room for the multipart framing and the caption around the image itself.
UPLOAD_OVERHEAD = 64 * 1024


# A budget per person for uploads, as sockets have for their costly actions.
upload_buckets = BucketMap(capacity=settings.SOCKET_LIMIT_KEYS)


UPLOADING_TOO_FAST = "You are uploading too fast. Wait a few seconds, then try again."


class TooFast(Invalid):
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
    return render(request, "chat/attachments.html#attach-form", context, status=status)


def declared_length(request: AuthedHttpRequest) -> int:
    """The body's length as its Content-Length header says, 0 if it says nothing usable (as
    Django then reads no body)."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@login_required
@require_POST
def attachment_upload(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    current = readable_room_or_404(request, slug)
    declared = declared_length(request)
    caption = ""
    client_id = None
    try:
        # Refused before the body is read: an oversized upload is never stored anywhere.
        if declared > settings.ATTACHMENT_MAX_BYTES + UPLOAD_OVERHEAD:
            refusal = upload_size_refusal(declared, max_bytes=settings.ATTACHMENT_MAX_BYTES)
            raise Invalid(refusal or "That file is too large.")
        # The form's idempotency key: an upload sent again (after an error or a lost answer)
        # returns the message saved the first time instead of posting it twice.
        client_id = parse_client_id(request.POST.get("client_id"))
        caption = request.POST.get("caption", "").strip()
        # One that shows nothing (zero-width characters alone) is none: the image goes alone.
        if shows_nothing(caption):
            caption = ""
        else:
            caption = logic.clean_body(caption, max_length=settings.CHAT_MESSAGE_MAX_LENGTH)
        upload = request.FILES.get("image")
        if upload is None:
            raise Invalid("Choose an image to attach.")
        max_bytes = settings.ATTACHMENT_MAX_BYTES
        refusal = upload_size_refusal(upload.size or 0, max_bytes=max_bytes)
        if refusal:
            raise Invalid(refusal)
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
        decoded = decode_image(upload, max_pixels=settings.ATTACHMENT_MAX_PIXELS)
        attachment_actions.message_post_with_image(
            room=current,
            author=request.user,
            body=caption,
            upload=upload,
            decoded=decoded,
            size=upload.size or 0,
            client_id=client_id,
        )
        demo.use_record(kind=Use.Kind.UPLOAD, user=request.user, address=address)
    except Invalid as error:
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


@login_required
@require_GET
def attachment_file(request: AuthedHttpRequest, attachment_id: int, kind: str) -> HttpResponseBase:
    # Only from a room the viewer may read now, and never once its message is deleted.
    attachment = attachment_queries.attachment_readable(
        user=request.user, attachment_id=attachment_id
    )
    if attachment is None or kind not in ("original", "thumbnail"):
        raise Http404("No such image.")
    if kind == "original":
        return file_response(attachment.original, attachment.content_type)
    if not attachment.thumbnail:
        raise Http404("The thumbnail is not ready.")
    return file_response(attachment.thumbnail, THUMBNAIL_TYPE)
