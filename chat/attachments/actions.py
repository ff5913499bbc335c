"""Image attachment writes made by the person: a message posted with an image, whose
thumbnail is queued on commit."""

import uuid
from functools import partial
from typing import IO

from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

from chat.actions.messages import message_insert
from chat.attachments import tasks
from chat.attachments.images import DecodedImage
from chat.attachments.logic import IMAGE_EXTENSIONS
from chat.models import Attachment, Message, Room
from taskworker.retries import enqueue


def message_post_with_image(
    *,
    room: Room,
    author: User,
    body: str,
    upload: IO[bytes],
    decoded: DecodedImage,
    size: int,
    client_id: uuid.UUID | None,
) -> Message:
    """Store the image, post the message (shown at once, with a placeholder), and make the
    thumbnail in a task on commit. An upload retried with the same client id (the form's) is
    message_post's retry: the message saved the first time, pushed again, its image kept."""
    extension = IMAGE_EXTENSIONS[decoded.format]
    upload.seek(0)
    name = default_storage.save(f"attachments/{uuid.uuid4().hex}.{extension}", File(upload))
    try:
        with transaction.atomic():
            message, new = message_insert(room=room, author=author, body=body, client_id=client_id)
            if new:
                attachment = Attachment.objects.create(
                    message=message,
                    original=name,
                    content_type=decoded.content_type,
                    width=decoded.width,
                    height=decoded.height,
                    size=size,
                )
                transaction.on_commit(
                    partial(enqueue, tasks.make_thumbnail, attachment_id=attachment.pk),
                    robust=True,
                )
    except BaseException:
        default_storage.delete(name)
        raise
    if not new:
        default_storage.delete(name)
    return message
