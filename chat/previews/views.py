"""Serving a link preview's image, shrunk and stored here."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBase
from django.views.decorators.http import require_GET

from chat.attachments.images import THUMBNAIL_TYPE
from chat.previews import queries as preview_queries
from chat.stored import file_response
from realtime.http import AuthedHttpRequest


@login_required
@require_GET
def preview_image(request: AuthedHttpRequest, preview_id: int) -> HttpResponseBase:
    preview = preview_queries.link_preview_readable(user=request.user, preview_id=preview_id)
    if preview is None or not preview.image:
        raise Http404("No such image.")
    return file_response(preview.image, THUMBNAIL_TYPE)
