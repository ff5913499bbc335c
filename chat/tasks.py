"""Slow chat work, run by the task worker: link previews, thumbnails, transcript exports.

Each task takes the id of the row it works for and an `attempt` number; taskworker.retries
runs the attempt, schedules the next one with backoff when it fails, and records the failure
on the row (shown to people live) when it gives up. Tasks may run twice (a worker killed
mid-task has its task run again), so each one starts over cleanly.
"""

import tempfile
from functools import partial

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.tasks import task
from django.utils import timezone

from accounts import queries as people
from chat import actions, fetch, images, logic, queries
from chat.models import Attachment, LinkPreview, TranscriptExport
from taskworker import retries

PREVIEW_IMAGE_TYPES = frozenset(logic.IMAGE_TYPES.values())
EXPORT_BATCH_SIZE = 500


def user_facing(error: Exception) -> str:
    if isinstance(error, retries.Permanent | logic.Refused | logic.Invalid | fetch.FetchFailed):
        return str(error)
    return "Something went wrong; it was tried several times."


# Link previews --------------------------------------------------------------------------------


@task()
def fetch_link_preview(*, preview_id: int, attempt: int = 1) -> None:
    retries.attempt(
        fetch_link_preview,
        attempt=attempt,
        kwargs={"preview_id": preview_id},
        work=partial(link_preview_build, preview_id),
        gave_up=lambda error: actions.link_preview_fail(
            preview_id=preview_id, reason=user_facing(error)
        ),
    )


def guarded_fetch(url: str, *, accept: frozenset[str], truncate: bool) -> fetch.Fetched:
    try:
        return fetch.fetch(
            url,
            accept=accept,
            max_bytes=settings.LINK_PREVIEW_MAX_BYTES,
            timeout=settings.LINK_PREVIEW_TIMEOUT,
            allowed=logic.parse_networks(settings.LINK_PREVIEW_ALLOWED_NETWORKS),
            max_redirects=settings.LINK_PREVIEW_MAX_REDIRECTS,
            truncate=truncate,
            public=settings.LINK_PREVIEW_PUBLIC,
        )
    except logic.Refused as refusal:
        raise retries.Permanent(str(refusal)) from None


def link_preview_build(preview_id: int) -> None:
    preview = queries.link_preview_get(preview_id=preview_id)
    if preview is None or preview.status == LinkPreview.Status.READY:
        return
    page = guarded_fetch(preview.url, accept=logic.HTML_TYPES, truncate=True)
    html = page.body.decode(page.charset or "utf-8", errors="replace")
    metadata = logic.page_metadata(html, base_url=page.url)
    image = preview_image_store(preview, metadata.image_url) if metadata.image_url else ""
    actions.link_preview_store(preview=preview, metadata=metadata, image=image)


def preview_image_store(preview: LinkPreview, url: str) -> str:
    """The page's image as a local thumbnail; a page whose image fails still gets its card."""
    try:
        fetched = guarded_fetch(url, accept=PREVIEW_IMAGE_TYPES, truncate=False)
        with tempfile.SpooledTemporaryFile() as source:
            source.write(fetched.body)
            source.seek(0)
            thumbnail = images.make_thumbnail(
                source, box=settings.THUMBNAIL_SIZE, max_pixels=settings.ATTACHMENT_MAX_PIXELS
            )
    except (retries.Permanent, fetch.FetchFailed, logic.Invalid, OSError):
        return ""
    return default_storage.save(
        f"previews/{preview.pk}.{images.THUMBNAIL_EXTENSION}", ContentFile(thumbnail.data)
    )


# Image attachments ----------------------------------------------------------------------------


@task()
def make_thumbnail(*, attachment_id: int, attempt: int = 1) -> None:
    retries.attempt(
        make_thumbnail,
        attempt=attempt,
        kwargs={"attachment_id": attachment_id},
        work=partial(thumbnail_build, attachment_id),
        gave_up=lambda error: actions.attachment_fail(
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
    except logic.Invalid as error:
        raise retries.Permanent(str(error)) from None
    actions.attachment_thumbnail_store(attachment=attachment, thumbnail=thumbnail)


# Transcript exports ---------------------------------------------------------------------------


@task()
def build_transcript_export(*, export_id: int, attempt: int = 1) -> None:
    retries.attempt(
        build_transcript_export,
        attempt=attempt,
        kwargs={"export_id": export_id},
        work=partial(transcript_build, export_id),
        gave_up=lambda error: actions.export_fail(export_id=export_id, reason=user_facing(error)),
    )


def transcript_build(export_id: int) -> None:
    """Write the room's messages in batches, reporting progress after each."""
    export = queries.export_get(export_id=export_id)
    if export is None or export.status == TranscriptExport.Status.READY:
        return
    room = export.room
    # Access is checked again here: whoever left the room since asking gets no transcript.
    if not queries.room_is_readable(user=export.requested_by, room_id=room.pk):
        raise retries.Permanent(actions.NOT_A_MEMBER)
    # The messages as the person sees them in the room: without those of people they blocked.
    hidden = people.blocked_ids_for(user_id=export.requested_by_id)
    actions.export_progress(export=export, progress=0)
    total = queries.room_message_count(room_id=room.pk, hidden_author_ids=hidden)
    as_json = export.format == TranscriptExport.Format.JSON
    written = 0
    after_id = 0
    with tempfile.TemporaryFile() as out:
        if as_json:
            head = logic.transcript_json_head(
                room=room.name, slug=room.slug, exported_at=timezone.now()
            )
            out.write(head.encode())
        else:
            out.write(logic.transcript_csv_header().encode())
        while True:
            lines = queries.transcript_lines_after(
                room_id=room.pk,
                after_id=after_id,
                limit=EXPORT_BATCH_SIZE,
                hidden_author_ids=hidden,
            )
            if not lines:
                break
            if as_json:
                chunk = logic.transcript_json_rows(lines, first=written == 0)
            else:
                chunk = logic.transcript_csv_rows(lines)
            out.write(chunk.encode())
            written += len(lines)
            after_id = lines[-1].id
            # Messages posted meanwhile are included; the bar never passes 99 before the end.
            actions.export_progress(
                export=export, progress=min(99, logic.percent_done(written, total))
            )
        if as_json:
            out.write(logic.TRANSCRIPT_JSON_TAIL.encode())
        out.seek(0)
        name = default_storage.save(f"exports/{export.pk}-{room.slug}.{export.format}", File(out))
    actions.export_finish(export=export, file=name, message_count=written)
