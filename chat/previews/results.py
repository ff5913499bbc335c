"""Link preview writes made by the fetch task: the card stored, or why there is none. Apart
from actions.py, which queues the task: the task module imports these, not the reverse."""

from functools import partial

from django.db import transaction
from django.utils import timezone

from chat.models import LinkPreview
from chat.previews import events
from chat.previews.logic import PageMetadata
from chat.stored import files_delete, update_if_present


def link_preview_store(*, preview: LinkPreview, metadata: PageMetadata, image: str) -> None:
    """Show the card; unless the preview was removed meanwhile (its message deleted, or edited
    to another link): then nothing is stored, and the fetched image is thrown away."""
    preview.title = metadata.title
    preview.description = metadata.description
    preview.site_name = metadata.site_name
    preview.image = image
    preview.status = LinkPreview.Status.READY
    preview.error = ""
    preview.updated_at = timezone.now()
    fields = ["title", "description", "site_name", "image", "status", "error", "updated_at"]
    with transaction.atomic():
        if not update_if_present(preview, fields):
            transaction.on_commit(partial(files_delete, [image] if image else []), robust=True)
            return
        transaction.on_commit(partial(events.link_preview_changed, preview), robust=True)


def link_preview_fail(*, preview_id: int, reason: str) -> None:
    with transaction.atomic():
        preview = LinkPreview.objects.select_related("message").filter(id=preview_id).first()
        if preview is None:
            return
        preview.status = LinkPreview.Status.FAILED
        preview.error = reason[:300]
        preview.updated_at = timezone.now()
        if not update_if_present(preview, ["status", "error", "updated_at"]):
            return
        transaction.on_commit(partial(events.link_preview_changed, preview), robust=True)
