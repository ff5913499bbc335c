"""The chat tasks end to end, as the worker runs them: queued on commit by an action, run by
the worker loop (the `run_tasks` fixture), their results pushed live."""

import pytest
from django.core.files.storage import default_storage

from chat.actions import messages as message_actions
from chat.models import Attachment, LinkPreview
from tests.chat.task_inputs import HOSTILE_PAGE, png, upload

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("allow_local_site")
def test_a_deleted_message_loses_its_preview_and_attachment_with_their_files(
    ada, site, post, work, pushes, room, django_capture_on_commit_callbacks
):
    site.reply("/post", HOSTILE_PAGE)
    site.reply("/card.png", png(800, 400), content_type="image/png")
    linked = post(f"read {site.url('/post')}")
    with django_capture_on_commit_callbacks(execute=True):
        pictured = upload(ada, room, png(), caption="a photo")
    work()
    preview = LinkPreview.objects.get()
    attachment = Attachment.objects.get()
    files = [preview.image, attachment.original, attachment.thumbnail]
    assert all(default_storage.exists(name) for name in files)
    pushes.sent.clear()

    with django_capture_on_commit_callbacks(execute=True):
        message_actions.message_delete(message=linked, deleter=ada)
        message_actions.message_delete(message=pictured, deleter=ada)
    assert not LinkPreview.objects.exists()
    assert not Attachment.objects.exists()
    assert not any(default_storage.exists(name) for name in files)
    for html in pushes.to(f"chat.room.{room.id}"):
        assert "This message was deleted." in html
        assert "preview-" not in html
        assert "attachment-" not in html
