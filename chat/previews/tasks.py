"""Link previews, fetched by the task worker after a message with a link is posted.

The task takes the id of the preview and an `attempt` number; taskworker.retries runs the
attempt, schedules the next one with backoff when it fails, and records the failure on the
row (shown to people live) when it gives up. It may run twice (a worker killed mid-task has
its task run again), so it starts over cleanly.
"""

import tempfile
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.tasks import task

from chat.attachments import images
from chat.attachments.logic import IMAGE_TYPES
from chat.previews import fetch, logic, queries, results
from chat.previews.models import LinkPreview
from realtime.validation import Invalid
from taskworker import retries

PREVIEW_IMAGE_TYPES = frozenset(IMAGE_TYPES.values())


def user_facing(error: Exception) -> str:
    return retries.user_facing(error, shown=(logic.Refused, Invalid, fetch.FetchFailed))


@task()
def fetch_link_preview(*, preview_id: int, attempt: int = 1) -> None:
    retries.attempt(
        fetch_link_preview,
        attempt=attempt,
        kwargs={"preview_id": preview_id},
        work=partial(link_preview_build, preview_id),
        gave_up=lambda error: results.link_preview_fail(
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
    html = logic.page_text(page.body, page.charset)
    metadata = logic.page_metadata(html, base_url=page.url)
    image = preview_image_store(preview, metadata.image_url) if metadata.image_url else ""
    results.link_preview_store(preview=preview, metadata=metadata, image=image)


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
    except (retries.Permanent, fetch.FetchFailed, Invalid, OSError):
        return ""
    return default_storage.save(
        f"previews/{preview.pk}.{images.THUMBNAIL_EXTENSION}", ContentFile(thumbnail.data)
    )
