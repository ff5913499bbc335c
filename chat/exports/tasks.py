"""Transcript exports, built by the task worker in batches, reporting progress live.

The task takes the id of the export and an `attempt` number; taskworker.retries runs the
attempt, retries it with backoff, and records the failure on the row when it gives up. It may
run twice, so it starts over cleanly.
"""

import tempfile
from functools import partial

from django.core.files import File
from django.core.files.storage import default_storage
from django.tasks import task
from django.utils import timezone

from accounts import queries as people
from chat.exports import logic, queries, results
from chat.exports.models import TranscriptExport
from chat.logic import NOT_A_MEMBER
from chat.queries import rooms as room_queries
from realtime.validation import Invalid
from taskworker import retries

EXPORT_BATCH_SIZE = 500


def user_facing(error: Exception) -> str:
    return retries.user_facing(error, shown=(Invalid,))


@task()
def build_transcript_export(*, export_id: int, attempt: int = 1) -> None:
    retries.attempt(
        build_transcript_export,
        attempt=attempt,
        kwargs={"export_id": export_id},
        work=partial(transcript_build, export_id),
        gave_up=lambda error: results.export_fail(export_id=export_id, reason=user_facing(error)),
    )


def transcript_build(export_id: int) -> None:
    """Write the room's messages in batches, reporting progress after each."""
    export = queries.export_get(export_id=export_id)
    if export is None or export.status == TranscriptExport.Status.READY:
        return
    room = export.room
    # Access is checked again here: whoever left the room since asking gets no transcript.
    if not room_queries.room_is_readable(user=export.requested_by, room_id=room.pk):
        raise retries.Permanent(NOT_A_MEMBER)
    # The messages as the person sees them in the room: without those of people they blocked.
    hidden = people.blocked_ids_for(user_id=export.requested_by_id)
    results.export_progress(export=export, progress=0)
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
            results.export_progress(
                export=export, progress=min(99, logic.percent_done(written, total))
            )
        if as_json:
            out.write(logic.TRANSCRIPT_JSON_TAIL.encode())
        out.seek(0)
        name = default_storage.save(f"exports/{export.pk}-{room.slug}.{export.format}", File(out))
    results.export_finish(export=export, file=name, message_count=written)
