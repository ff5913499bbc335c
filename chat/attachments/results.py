"""Image attachment writes made by the thumbnail task: the thumbnail stored, or why there is
none. Apart from actions.py, which queues the task: the task module imports these."""

import uuid
from functools import partial

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from chat.attachments import events
from chat.attachments.images import THUMBNAIL_EXTENSION, Thumbnail
from chat.models import Attachment
from chat.stored import files_delete, update_if_present


def attachment_thumbnail_store(*, attachment: Attachment, thumbnail: Thumbnail) -> None:
    name = default_storage.save(
        f"thumbnails/{uuid.uuid4().hex}.{THUMBNAIL_EXTENSION}", ContentFile(thumbnail.data)
    )
    attachment.thumbnail = name
    attachment.thumbnail_width = thumbnail.width
    attachment.thumbnail_height = thumbnail.height
    attachment.status = Attachment.Status.READY
    attachment.error = ""
    fields = ["thumbnail", "thumbnail_width", "thumbnail_height", "status", "error"]
    with transaction.atomic():
        if not update_if_present(attachment, fields):
            # Its message was deleted while the thumbnail was being made.
            transaction.on_commit(partial(files_delete, [name]), robust=True)
            return
        transaction.on_commit(partial(events.attachment_changed, attachment), robust=True)


def attachment_fail(*, attachment_id: int, reason: str) -> None:
    with transaction.atomic():
        attachment = Attachment.objects.select_related("message").filter(id=attachment_id).first()
        if attachment is None:
            return
        attachment.status = Attachment.Status.FAILED
        attachment.error = reason[:300]
        if not update_if_present(attachment, ["status", "error"]):
            return
        transaction.on_commit(partial(events.attachment_changed, attachment), robust=True)
