"""Writes. Each action changes state atomically and schedules its events on commit."""

import uuid
from copy import copy
from functools import partial
from typing import IO, Any

from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.tasks import Task
from django.utils import timezone

from chat import events, tasks
from chat.images import THUMBNAIL_EXTENSION, DecodedImage, Thumbnail
from chat.logic import IMAGE_EXTENSIONS, Invalid, PageMetadata, first_link
from chat.models import Attachment, LinkPreview, Message, Room, TranscriptExport
from chat.queries import exports_unfinished_count, room_name_taken
from notifications.actions import notify
from notifications.logic import excerpt, mentioned_names
from notifications.models import Notification
from notifications.queries import users_named


def room_create(*, name: str, slug: str, created_by: User) -> Room:
    with transaction.atomic():
        if room_name_taken(name=name, slug=slug):
            raise Invalid(f"A room called “{name}” already exists.")
        room = Room.objects.create(name=name, slug=slug, created_by=created_by)
        transaction.on_commit(partial(events.room_created, room), robust=True)
    return room


def message_post(*, room: Room, author: User, body: str, client_id: uuid.UUID | None) -> Message:
    """Save a message and push it to the room on commit; notify the people it mentions.

    A send retried with the same client id returns the message saved the first time and
    pushes nothing again.
    """
    if client_id is not None:
        existing = Message.objects.filter(author=author, client_id=client_id).first()
        if existing is not None:
            return existing
    mentioned = users_named(mentioned_names(body))
    try:
        with transaction.atomic():
            message = Message.objects.create(
                room=room,
                author=author,
                body=body,
                client_id=client_id,
                mentions=[user.username for user in mentioned],
            )
            transaction.on_commit(partial(events.message_posted, message), robust=True)
            link_preview_schedule(message)
            notify(
                recipients=mentioned,
                actor=author,
                verb=Notification.Verb.MENTION,
                target_label=f"#{room.name}",
                target_url=message.get_absolute_url(),
                excerpt=excerpt(body),
            )
    except IntegrityError:
        # Two sockets raced with the same client id; the other one saved it.
        return Message.objects.get(author=author, client_id=client_id)
    return message


# Link previews, image attachments, transcript exports: the writes around their tasks. -------


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


def link_preview_store(*, preview: LinkPreview, metadata: PageMetadata, image: str) -> None:
    preview.title = metadata.title
    preview.description = metadata.description
    preview.site_name = metadata.site_name
    preview.image = image
    preview.status = LinkPreview.Status.READY
    preview.error = ""
    preview.updated_at = timezone.now()
    with transaction.atomic():
        preview.save()
        transaction.on_commit(partial(events.link_preview_changed, preview), robust=True)


def link_preview_fail(*, preview_id: int, reason: str) -> None:
    with transaction.atomic():
        preview = LinkPreview.objects.select_related("message").filter(id=preview_id).first()
        if preview is None:
            return
        preview.status = LinkPreview.Status.FAILED
        preview.error = reason[:300]
        preview.updated_at = timezone.now()
        preview.save()
        transaction.on_commit(partial(events.link_preview_changed, preview), robust=True)


def message_post_with_image(
    *, room: Room, author: User, body: str, upload: IO[bytes], decoded: DecodedImage, size: int
) -> Message:
    """Store the image, post the message (shown at once, with a placeholder), and make the
    thumbnail in a task on commit."""
    extension = IMAGE_EXTENSIONS[decoded.format]
    upload.seek(0)
    name = default_storage.save(f"attachments/{uuid.uuid4().hex}.{extension}", File(upload))
    try:
        with transaction.atomic():
            message = message_post(room=room, author=author, body=body, client_id=None)
            attachment = Attachment.objects.create(
                message=message,
                original=name,
                content_type=decoded.content_type,
                width=decoded.width,
                height=decoded.height,
                size=size,
            )
            transaction.on_commit(
                partial(enqueue, tasks.make_thumbnail, attachment_id=attachment.pk), robust=True
            )
    except BaseException:
        default_storage.delete(name)
        raise
    return message


def attachment_thumbnail_store(*, attachment: Attachment, thumbnail: Thumbnail) -> None:
    name = default_storage.save(
        f"thumbnails/{uuid.uuid4().hex}.{THUMBNAIL_EXTENSION}", ContentFile(thumbnail.data)
    )
    attachment.thumbnail = name
    attachment.thumbnail_width = thumbnail.width
    attachment.thumbnail_height = thumbnail.height
    attachment.status = Attachment.Status.READY
    attachment.error = ""
    with transaction.atomic():
        attachment.save()
        transaction.on_commit(partial(events.attachment_changed, attachment), robust=True)


def attachment_fail(*, attachment_id: int, reason: str) -> None:
    with transaction.atomic():
        attachment = Attachment.objects.select_related("message").filter(id=attachment_id).first()
        if attachment is None:
            return
        attachment.status = Attachment.Status.FAILED
        attachment.error = reason[:300]
        attachment.save()
        transaction.on_commit(partial(events.attachment_changed, attachment), robust=True)


EXPORTS_UNFINISHED_LIMIT = 3


def export_request(*, room: Room, user: User, export_format: str) -> TranscriptExport:
    if export_format not in TranscriptExport.Format.values:
        raise Invalid("Choose JSON or CSV.")
    with transaction.atomic():
        if exports_unfinished_count(user_id=user.pk) >= EXPORTS_UNFINISHED_LIMIT:
            raise Invalid(
                f"You have {EXPORTS_UNFINISHED_LIMIT} exports in progress; wait for one to finish."
            )
        export = TranscriptExport.objects.create(room=room, requested_by=user, format=export_format)
        transaction.on_commit(
            partial(enqueue, tasks.build_transcript_export, export_id=export.pk), robust=True
        )
    return export


def export_progress(*, export: TranscriptExport, progress: int) -> None:
    """Record and show progress; nothing is written or pushed when the percentage is the same."""
    if export.status == TranscriptExport.Status.RUNNING and export.progress == progress:
        return
    export.status = TranscriptExport.Status.RUNNING
    export.progress = progress
    with transaction.atomic():
        export.save(update_fields=["status", "progress"])
        # A copy: the push shows this step's progress even if it leaves after later steps.
        transaction.on_commit(partial(events.export_changed, copy(export)), robust=True)


def export_finish(*, export: TranscriptExport, file: str, message_count: int) -> None:
    """The file is ready: show the link and notify its owner, with a link only they can use."""
    export.file = file
    export.message_count = message_count
    export.status = TranscriptExport.Status.READY
    export.progress = 100
    export.error = ""
    export.finished_at = timezone.now()
    with transaction.atomic():
        export.save()
        transaction.on_commit(partial(events.export_changed, export), robust=True)
        notify(
            recipients=[export.requested_by],
            actor=None,
            verb=Notification.Verb.EXPORT_READY,
            target_label=f"#{export.room.name} ({export.get_format_display()})",
            target_url=export.get_absolute_url(),
        )


def export_fail(*, export_id: int, reason: str) -> None:
    with transaction.atomic():
        export = TranscriptExport.objects.filter(id=export_id).first()
        if export is None:
            return
        export.status = TranscriptExport.Status.FAILED
        export.error = reason[:300]
        export.finished_at = timezone.now()
        export.save()
        transaction.on_commit(partial(events.export_changed, export), robust=True)


def enqueue(task: Task[..., None], **kwargs: Any) -> None:
    task.enqueue(**kwargs)
