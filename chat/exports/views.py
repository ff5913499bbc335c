"""Asking for a transcript export, and downloading it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from chat.exports import actions as export_actions
from chat.exports import queries as export_queries
from chat.views.layout import readable_room_or_404
from realtime.http import AuthedHttpRequest
from realtime.validation import Invalid


@login_required
@require_POST
def export_create(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    current = readable_room_or_404(request, slug)
    try:
        export = export_actions.export_request(
            room=current, user=request.user, export_format=request.POST.get("format", "")
        )
    except Invalid as error:
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
    export = export_queries.export_for_download(export_id=export_id, user=request.user)
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
