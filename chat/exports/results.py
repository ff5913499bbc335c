"""Transcript export writes made by the export task: progress, the finished file, or why there
is none. Apart from actions.py, which queues the task: the task module imports these."""

from copy import copy
from functools import partial

from django.db import transaction
from django.utils import timezone

from chat.actions.rooms import room_label
from chat.exports import events
from chat.models import TranscriptExport
from notifications.actions import notify
from notifications.models import Notification


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
            target_label=f"{room_label(export.room)} ({export.get_format_display()})",
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
