"""Transcript export writes made by the person: an export asked for, built by a task queued
on commit."""

from functools import partial

from django.contrib.auth.models import User
from django.db import transaction

from chat.exports import queries as export_queries
from chat.exports import tasks
from chat.logic import NOT_A_MEMBER, Forbidden
from chat.models import Room, TranscriptExport
from chat.queries import rooms as room_queries
from realtime.validation import Invalid
from taskworker.retries import enqueue

EXPORTS_UNFINISHED_LIMIT = 3


def export_request(*, room: Room, user: User, export_format: str) -> TranscriptExport:
    if export_format not in TranscriptExport.Format.values:
        raise Invalid("Choose JSON or CSV.")
    if not room_queries.room_is_readable(user=user, room_id=room.id):
        raise Forbidden(NOT_A_MEMBER)
    with transaction.atomic():
        if export_queries.exports_unfinished_count(user_id=user.pk) >= EXPORTS_UNFINISHED_LIMIT:
            raise Invalid(
                f"You have {EXPORTS_UNFINISHED_LIMIT} exports in progress; wait for one to finish."
            )
        export = TranscriptExport.objects.create(room=room, requested_by=user, format=export_format)
        transaction.on_commit(
            partial(enqueue, tasks.build_transcript_export, export_id=export.pk), robust=True
        )
    return export
