"""Link preview writes made with a message, in its transaction: a preview scheduled (its fetch
queued on commit) or removed."""

from functools import partial

from django.db import transaction

from chat.models import LinkPreview, Message
from chat.previews import tasks
from chat.previews.logic import first_link
from chat.stored import files_delete
from taskworker.retries import enqueue


def link_previews_remove(message: Message) -> None:
    """In the caller's transaction. A fetch still running for the preview finds it gone and
    stores nothing (link_preview_store)."""
    previews = LinkPreview.objects.filter(message=message)
    images = [preview.image for preview in previews if preview.image]
    previews.delete()
    transaction.on_commit(partial(files_delete, images), robust=True)


def link_preview_schedule(message: Message) -> LinkPreview | None:
    """In the message's transaction: a pending preview for its first link, fetched on commit."""
    url = first_link(message.body)
    if url is None:
        return None
    preview = LinkPreview.objects.create(message=message, url=url)
    transaction.on_commit(
        partial(enqueue, tasks.fetch_link_preview, preview_id=preview.pk), robust=True
    )
    return preview
