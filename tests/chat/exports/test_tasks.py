"""The transcript export tasks end to end, as the worker runs them: queued on commit by a
request, run by the worker loop (the `run_tasks` fixture), their results pushed live."""

import json

import pytest
from django.core.files.storage import default_storage
from django.tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accounts.models import Block
from chat import logic
from chat.actions import messages as message_actions
from chat.actions import rooms as room_actions
from chat.exports import actions as export_actions
from chat.models import Membership, Message, Room, TranscriptExport
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("export_format", ["json", "csv"])
def test_an_export_reports_progress_then_notifies_its_owner(
    ada, grace, room, work, pushes, django_capture_on_commit_callbacks, monkeypatch, export_format
):
    monkeypatch.setattr("chat.exports.tasks.EXPORT_BATCH_SIZE", 2)
    Message.objects.bulk_create(
        Message(room=room, author=grace if n % 2 else ada, body=f"message {n}") for n in range(5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        export = export_actions.export_request(room=room, user=ada, export_format=export_format)
    assert pushes.sent == []

    work()
    export.refresh_from_db()
    assert export.status == TranscriptExport.Status.READY
    assert export.message_count == 5
    mine = pushes.to(f"user.{ada.pk}")
    progress = [html for html in mine if f'id="export-{export.pk}"' in html]
    # 0 %, after each batch of two (40 %, 80 %, 99 %), then the link.
    assert [
        'value="0"' in progress[0],
        'value="40"' in progress[1],
        'value="80"' in progress[2],
    ] == [True] * 3
    assert 'value="99"' in progress[3]
    assert f'href="/exports/{export.pk}/download/"' in progress[-1]
    assert pushes.to(f"user.{grace.pk}") == []

    notification = Notification.objects.get(recipient=ada)
    assert notification.verb == Notification.Verb.EXPORT_READY
    assert notification.target_url == f"/exports/{export.pk}/download/"
    assert any("Your transcript export is ready" in html for html in mine)

    with default_storage.open(export.file) as handle:
        text = handle.read().decode()
    if export_format == "json":
        assert [m["body"] for m in json.loads(text)["messages"]] == [
            f"message {n}" for n in range(5)
        ]
    else:
        assert text.splitlines()[0] == "id,sent_at,author,body"
        assert len(text.splitlines()) == 6


def test_a_deleted_room_ends_its_export_quietly(
    ada, room, work, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        export_actions.export_request(room=room, user=ada, export_format="csv")
    room.delete()
    assert work() == 1
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


def test_an_export_leaves_out_deleted_messages_and_blocked_authors(
    ada, grace, room, work, django_capture_on_commit_callbacks
):
    kept = Message.objects.create(room=room, author=ada, body="kept")
    Message.objects.create(room=room, author=grace, body="from someone ada blocked")
    gone = Message.objects.create(room=room, author=ada, body="soon deleted")
    message_actions.message_delete(message=gone, deleter=ada)
    Block.objects.create(blocker=ada, blocked=grace)
    with django_capture_on_commit_callbacks(execute=True):
        export = export_actions.export_request(room=room, user=ada, export_format="json")
    work()
    export.refresh_from_db()
    with default_storage.open(export.file) as handle:
        lines = json.loads(handle.read())["messages"]
    assert [(line["id"], line["body"]) for line in lines] == [(kept.id, "kept")]
    assert export.message_count == 1


def test_an_export_of_a_room_its_owner_left_meanwhile_fails(
    ada, grace, work, django_capture_on_commit_callbacks
):
    secret = Room.objects.create(name="Secret", slug="secret", kind=Room.Kind.PRIVATE)
    Membership.objects.bulk_create(
        [Membership(room=secret, user=ada), Membership(room=secret, user=grace)]
    )
    Message.objects.create(room=secret, author=ada, body="private words")
    with django_capture_on_commit_callbacks(execute=True):
        export = export_actions.export_request(room=secret, user=grace, export_format="csv")
        room_actions.membership_end(room=secret, member=grace, by=grace)
    work()
    export.refresh_from_db()
    assert export.status == TranscriptExport.Status.FAILED
    assert export.error == logic.NOT_A_MEMBER
    assert not export.file
    assert not default_storage.exists("exports") or not default_storage.listdir("exports")[1]
