"""Thumbnails of attached images, made by the task worker after the upload is posted.

The task takes the id of the attachment and an `attempt` number; taskworker.retries runs the
attempt, retries it with backoff, and records the failure on the row when it gives up. It may
run twice, so it starts over cleanly.
"""

from functools import partial

from django.conf import settings
from django.core.files.storage import default_storage
from django.tasks import task

from chat.attachments import images, queries, results
from chat.attachments.models import Attachment
from realtime.validation import Invalid
from taskworker import retries


def user_facing(error: Exception) -> str:
    return retries.user_facing(error, shown=(Invalid,))


@task()
def make_thumbnail(*, attachment_id: int, attempt: int = 1) -> None:
    retries.attempt(
        make_thumbnail,
        attempt=attempt,
        kwargs={"attachment_id": attachment_id},
        work=partial(thumbnail_build, attachment_id),
        gave_up=lambda error: results.attachment_fail(
            attachment_id=attachment_id, reason=user_facing(error)
        ),
    )


def thumbnail_build(attachment_id: int) -> None:
    attachment = queries.attachment_get(attachment_id=attachment_id)
    if attachment is None or attachment.status == Attachment.Status.READY:
        return
    try:
        with default_storage.open(attachment.original, "rb") as source:
            thumbnail = images.make_thumbnail(
                source, box=settings.THUMBNAIL_SIZE, max_pixels=settings.ATTACHMENT_MAX_PIXELS
            )
    except FileNotFoundError:
        raise retries.Permanent("The uploaded file is missing.") from None
    except Invalid as error:
        raise retries.Permanent(str(error)) from None
    results.attachment_thumbnail_store(attachment=attachment, thumbnail=thumbnail)
