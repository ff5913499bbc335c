"""The thumbnail tasks end to end, as the worker runs them: queued on commit by an upload,
run by the worker loop (the `run_tasks` fixture), their results pushed live."""

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from chat.actions import messages as message_actions
from chat.attachments import results as attachment_results
from chat.models import Attachment, Message
from tests.chat.task_inputs import png, upload

pytestmark = pytest.mark.django_db


def test_an_attachment_shows_a_placeholder_then_its_thumbnail(
    ada, room, work, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = upload(ada, room, png(1200, 600), caption="the view")
    [placeholder] = pushes.to(f"chat.room.{room.id}")
    assert f'id="message-{message.id}"' in placeholder
    assert "Processing image" in placeholder
    assert "the view" in placeholder
    pushes.sent.clear()

    assert work() == 1
    attachment = Attachment.objects.get(message=message)
    assert attachment.status == Attachment.Status.READY
    assert (attachment.thumbnail_width, attachment.thumbnail_height) == (480, 240)
    with default_storage.open(attachment.thumbnail) as thumb, Image.open(thumb) as image:
        assert image.format == "WEBP"
        assert image.size == (480, 240)
    [html] = pushes.to(f"chat.room.{room.id}")
    assert f'id="attachment-{message.id}"' in html
    assert 'hx-swap-oob="true"' in html
    assert f"/attachments/{attachment.pk}/thumbnail/" in html
    assert "Processing image" not in html


def test_a_missing_original_fails_the_thumbnail_for_good(
    ada, room, work, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = upload(ada, room, png())
    default_storage.delete(Attachment.objects.get().original)
    pushes.sent.clear()
    work()
    attachment = Attachment.objects.get(message=message)
    assert attachment.status == Attachment.Status.FAILED
    [html] = pushes.to(f"chat.room.{room.id}")
    assert "The image could not be processed: The uploaded file is missing." in html


def test_a_thumbnail_made_after_its_message_was_deleted_is_thrown_away(
    ada, room, work, pushes, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        message = upload(ada, room, png())
    store = attachment_results.attachment_thumbnail_store

    def deleted_meanwhile(**kwargs):
        message_actions.message_delete(message=Message.objects.get(pk=message.pk), deleter=ada)
        store(**kwargs)

    monkeypatch.setattr(attachment_results, "attachment_thumbnail_store", deleted_meanwhile)
    pushes.sent.clear()
    work()
    assert not Attachment.objects.exists()
    assert not default_storage.exists("thumbnails") or not default_storage.listdir("thumbnails")[1]
    assert not any("attachment-" in html for html in pushes.to(f"chat.room.{room.id}"))
