"""Live pushes of transcript exports: progress and the finished file, to their owner only."""

from django.template.loader import render_to_string

from chat.exports.models import TranscriptExport
from realtime.groups import user_group_name
from realtime.push import push_html


def export_html(export: TranscriptExport) -> str:
    return render_to_string("chat/exports.html#export", {"export": export, "oob": True})


def export_changed(export: TranscriptExport) -> None:
    """Only the tabs of the person who asked: the export is theirs alone."""
    push_html(user_group_name(export.requested_by_id), export_html(export))
