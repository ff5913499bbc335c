"""Files that tasks store for rows a person may delete meanwhile: removing them after the
deletion commits, updating such a row only if it is still there, and serving them safely."""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404

from chat.models import Attachment, LinkPreview


def files_delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def update_if_present(row: LinkPreview | Attachment, fields: list[str]) -> bool:
    """Save `fields` of a row that may have been deleted meanwhile; False if it was (a plain
    save would insert it again)."""
    values = {field: getattr(row, field) for field in fields}
    return type(row).objects.filter(pk=row.pk).update(**values) > 0


# Served files come from uploads: never let a browser run or sniff them as anything else.
# Nor keep them: access is checked on every request, so someone who leaves a private room (or
# whose message is deleted) does not keep its images in a cache.
FILE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-cache",
}


def file_response(name: str, content_type: str) -> FileResponse:
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404("That file is gone.") from None
    response = FileResponse(handle, content_type=content_type)
    for header, value in FILE_HEADERS.items():
        response[header] = value
    return response
