"""The views of chat/views.py around tasks: image uploads, served files, transcript exports."""

import io
import re
import uuid

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tasks_db.models import DBTaskResult
from PIL import Image

from chat.exports import actions as export_actions
from chat.models import Attachment, Message, TranscriptExport

HTMX = {"HTTP_HX_REQUEST": "true"}


def image_bytes(image_format="PNG", size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, image_format)
    return out.getvalue()


def upload(client, data, name="photo.png", caption="", client_id="", **extra):
    file = SimpleUploadedFile(name, data, content_type="image/png")
    form = {"image": file, "caption": caption, "client_id": client_id}
    return client.post("/rooms/general/attachments/", form, **HTMX, **extra)


def form_client_id(html: str) -> str:
    match = re.search(r'<input type="hidden" name="client_id" value="([0-9a-f-]{36})">', html)
    assert match, "the attach form has no client id"
    return match.group(1)


@pytest.fixture
def signed_in(client, ada):
    client.force_login(ada)
    return client


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "GIF", "WEBP"])
def test_an_image_upload_posts_a_message_with_a_placeholder(
    signed_in, room, image_format, django_capture_on_commit_callbacks, pushes
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(signed_in, image_bytes(image_format), caption="sunset")
    assert response.status_code == 200
    assert 'id="attach-form"' in response.content.decode()  # a fresh, empty form
    message = Message.objects.get()
    assert message.body == "sunset"
    attachment = Attachment.objects.get(message=message)
    assert attachment.status == Attachment.Status.PENDING
    assert attachment.content_type == Image.MIME[image_format]
    assert default_storage.exists(attachment.original)
    [html] = pushes.to(f"chat.room.{room.id}")
    assert "Processing image" in html
    assert DBTaskResult.objects.get().task_path == "chat.attachments.tasks.make_thumbnail"


def test_uploads_past_the_person_s_budget_are_refused_and_nothing_is_saved(
    signed_in, grace, room, settings
):
    settings.ATTACHMENT_UPLOAD_BURST = 2
    settings.ATTACHMENT_UPLOAD_RATE = 0.001
    assert [upload(signed_in, image_bytes()).status_code for _ in range(3)] == [200, 200, 429]
    refused = upload(signed_in, image_bytes(), caption="kept")
    assert refused.status_code == 429
    assert "You are uploading too fast." in refused.content.decode()
    assert 'value="kept"' in refused.content.decode()  # the caption waits for the retry
    assert Message.objects.count() == 2
    # The budget is the person's: someone else uploads as usual.
    other = Client()
    other.force_login(grace)
    assert upload(other, image_bytes()).status_code == 200


def test_an_upload_sent_again_is_the_message_saved_the_first_time_pushed_again(
    signed_in, room, django_capture_on_commit_callbacks, pushes
):
    client_id = form_client_id(signed_in.get("/rooms/general/").content.decode())
    with django_capture_on_commit_callbacks(execute=True):
        first = upload(signed_in, image_bytes(), caption="harbour", client_id=client_id)
    # The answer was lost (its server stopped, say): the same form is sent again.
    with django_capture_on_commit_callbacks(execute=True):
        again = upload(signed_in, image_bytes(), caption="harbour", client_id=client_id)

    assert (first.status_code, again.status_code) == (200, 200)
    message = Message.objects.get()
    assert message.client_id == uuid.UUID(client_id)
    attachment = Attachment.objects.get()
    assert attachment.message == message
    # One image stored: the second copy was removed.
    assert sorted(default_storage.listdir("attachments")[1]) == [
        attachment.original.removeprefix("attachments/")
    ]
    assert DBTaskResult.objects.count() == 1
    # Pushed to the room each time (pages skip the id they show), counted in the lists once.
    room_pushes = pushes.to(f"chat.room.{room.id}")
    assert [f'id="message-{message.id}"' in html for html in room_pushes] == [True, True]
    assert len(pushes.to(f"chat.activity.{room.id}")) == 1
    # Each answer is a form ready for the next image, under a new client id.
    ids = {form_client_id(first.content.decode()), form_client_id(again.content.decode())}
    assert len(ids) == 2
    assert client_id not in ids


def test_a_caption_that_shows_nothing_is_no_caption(signed_in, room):
    assert upload(signed_in, image_bytes(), caption="\u200b\u200b").status_code == 200
    assert Message.objects.get().body == ""


def test_a_refused_upload_keeps_its_client_id_for_the_retry(signed_in, room):
    client_id = str(uuid.uuid4())
    response = upload(signed_in, b"GIF89a but not really an image", client_id=client_id)
    assert response.status_code == 422
    assert form_client_id(response.content.decode()) == client_id
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"GIF89a but not really an image", "not an image this chat can show"),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "not an image",
        ),
        (b"%PDF-1.4 fake", "not an image"),
        (b"", "empty"),
    ],
)
def test_uploads_that_are_not_images_are_refused(signed_in, room, data, error):
    response = upload(signed_in, data, name="cat.png", caption="keep me")
    assert response.status_code == 422
    html = response.content.decode()
    assert error in html
    assert 'value="keep me"' in html  # the caption is not lost
    assert not Message.objects.exists()
    assert (
        not default_storage.exists("attachments") or not default_storage.listdir("attachments")[1]
    )


def test_an_image_format_outside_the_list_is_refused(signed_in, room):
    response = upload(signed_in, image_bytes("BMP"), name="old.bmp")
    assert response.status_code == 422
    assert "Attach a JPEG, PNG, GIF or WebP image." in response.content.decode()


def test_a_decompression_bomb_is_refused_before_decoding(signed_in, room, settings):
    settings.ATTACHMENT_MAX_PIXELS = 1_000_000
    # 2000 x 2000 of one colour compresses to a few kilobytes.
    response = upload(signed_in, image_bytes("PNG", size=(2000, 2000)))
    assert response.status_code == 422
    assert "2,000 by 2,000 pixels; the limit is 1 million pixels" in response.content.decode()


def test_a_truncated_image_is_refused(signed_in, room):
    data = image_bytes("PNG", size=(300, 300))
    response = upload(signed_in, data[: len(data) // 2])
    assert response.status_code == 422
    assert not Message.objects.exists()


def test_an_oversized_upload_is_refused(signed_in, room, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    response = upload(signed_in, image_bytes("PNG", size=(300, 300)) + b"\0" * 2000)
    assert response.status_code == 422
    assert "the limit is 0.001 MB" in response.content.decode()


def test_an_upload_without_a_file_is_refused(signed_in, room):
    response = signed_in.post("/rooms/general/attachments/", {"caption": "hi"}, **HTMX)
    assert response.status_code == 422
    assert "Choose an image to attach." in response.content.decode()


# Servers check the header first; a malformed one is what Django takes as no body at all.
@pytest.mark.parametrize("length", ["abc", "1.5", "9" * 5000])
def test_a_malformed_content_length_is_an_upload_without_a_file(signed_in, room, length):
    response = signed_in.post(
        "/rooms/general/attachments/", {"caption": "hi"}, CONTENT_LENGTH=length, **HTMX
    )
    assert response.status_code == 422
    assert "Choose an image to attach." in response.content.decode()


def test_an_upload_without_htmx_redirects_with_the_error(signed_in, room):
    file = SimpleUploadedFile("x.png", b"nope")
    response = signed_in.post("/rooms/general/attachments/", {"image": file}, follow=True)
    assert "not an image this chat can show" in response.content.decode()


def test_uploads_need_sign_in(client, room):
    assert upload(client, image_bytes()).status_code == 302
    assert not Message.objects.exists()


def test_uploads_need_a_room(signed_in):
    file = SimpleUploadedFile("x.png", image_bytes())
    assert signed_in.post("/rooms/nowhere/attachments/", {"image": file}).status_code == 404


def test_served_images_are_sandboxed(
    signed_in, room, ada, django_capture_on_commit_callbacks, run_tasks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(signed_in, image_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        run_tasks()
    attachment = Attachment.objects.get()
    for kind, content_type in [("original", "image/png"), ("thumbnail", "image/webp")]:
        response = signed_in.get(f"/attachments/{attachment.pk}/{kind}/")
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        b"".join(response.streaming_content)
    assert signed_in.get(f"/attachments/{attachment.pk}/other/").status_code == 404
    assert signed_in.get("/attachments/999/original/").status_code == 404


def test_the_room_page_has_the_attach_and_export_forms(signed_in, room):
    html = signed_in.get("/rooms/general/").content.decode()
    assert 'hx-encoding="multipart/form-data"' in html
    assert 'id="export-form"' in html


def test_an_export_request_shows_a_progress_bar(signed_in, room, ada):
    response = signed_in.post("/rooms/general/exports/", {"format": "csv"}, **HTMX)
    assert response.status_code == 200
    export = TranscriptExport.objects.get()
    html = response.content.decode()
    assert f'id="export-{export.pk}"' in html
    assert "<progress" in html
    assert 'hx-swap-oob="afterbegin:#export-list"' in html
    assert export.requested_by == ada


@pytest.mark.parametrize("export_format", ["", "xml", "pdf"])
def test_an_unknown_export_format_is_refused(signed_in, room, export_format):
    response = signed_in.post("/rooms/general/exports/", {"format": export_format}, **HTMX)
    assert response.status_code == 422
    assert "Choose JSON or CSV." in response.content.decode()
    assert not TranscriptExport.objects.exists()


def test_too_many_exports_at_once_are_refused(signed_in, room):
    for _ in range(export_actions.EXPORTS_UNFINISHED_LIMIT):
        assert (
            signed_in.post("/rooms/general/exports/", {"format": "json"}, **HTMX).status_code == 200
        )
    response = signed_in.post("/rooms/general/exports/", {"format": "json"}, **HTMX)
    assert response.status_code == 422
    assert "wait for one to finish" in response.content.decode()


@pytest.fixture
def finished_export(ada, room, run_tasks, django_capture_on_commit_callbacks):
    Message.objects.create(room=room, author=ada, body="=cmd|' /C calc'!A0")
    with django_capture_on_commit_callbacks(execute=True):
        export = export_actions.export_request(room=room, user=ada, export_format="csv")
    with django_capture_on_commit_callbacks(execute=True):
        run_tasks()
    export.refresh_from_db()
    return export


def test_the_owner_downloads_the_export(signed_in, finished_export):
    response = signed_in.get(f"/exports/{finished_export.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        f'filename="general-transcript-{finished_export.pk}.csv"' in response["Content-Disposition"]
    )
    assert response["Cache-Control"] == "private, no-store"
    body = b"".join(response.streaming_content).decode()
    assert "'=cmd|' /C calc'!A0" in body


def test_another_person_cannot_download_it(client, grace, finished_export):
    client.force_login(grace)
    assert client.get(f"/exports/{finished_export.pk}/download/").status_code == 404


def test_signed_out_people_cannot_download_it(client, finished_export):
    response = client.get(f"/exports/{finished_export.pk}/download/")
    assert response.status_code == 302


def test_an_unfinished_export_is_not_downloadable(signed_in, ada, room):
    export = export_actions.export_request(room=room, user=ada, export_format="json")
    assert signed_in.get(f"/exports/{export.pk}/download/").status_code == 404


def test_a_caption_longer_than_a_message_is_refused(signed_in, room, settings):
    settings.CHAT_MESSAGE_MAX_LENGTH = 10
    response = upload(signed_in, image_bytes(), caption="x" * 11)
    assert response.status_code == 422
    assert "the limit is 10" in response.content.decode()
    assert not Message.objects.exists()


def test_why_a_link_got_no_preview_is_shown_to_its_author_only(signed_in, room, ada):
    html = signed_in.get("/rooms/general/").content.decode()
    assert f'.message[data-author="{ada.pk}"] .preview-failed{{display:block}}' in html


def test_an_upload_with_emoji_and_a_file_full_of_nul_bytes_is_not_bad_text(
    signed_in, room, django_capture_on_commit_callbacks, pushes
):
    # The file's bytes (a PNG holds NULs, and bytes that are not UTF-8) are not text; a caption
    # and a file name with characters beyond the BMP are valid text.
    data = image_bytes()
    assert b"\x00" in data
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(signed_in, data, name="🌅 sunset.png", caption="sunset 🌅")
    assert response.status_code == 200
    assert Message.objects.get().body == "sunset 🌅"
