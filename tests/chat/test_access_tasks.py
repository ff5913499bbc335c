"""Link previews, image attachments and transcript exports go through the same readability
check as everything else: a private room someone may not read answers like a missing one,
and whoever loses access loses its files and exports too."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks_db.models import DBTaskResult
from PIL import Image

from accounts.models import Block
from chat import logic
from chat.actions import rooms as room_actions
from chat.exports import actions as export_actions
from chat.models import Attachment, LinkPreview, Message, TranscriptExport
from tests.chat.conftest import as_user

HTMX = {"HTTP_HX_REQUEST": "true"}


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def posted_with_image(room, author, body="") -> Attachment:
    message = Message.objects.create(room=room, author=author, body=body)
    original = default_storage.save("attachments/a.png", ContentFile(png()))
    thumbnail = default_storage.save("thumbnails/a.webp", ContentFile(b"RIFF....WEBP"))
    return Attachment.objects.create(
        message=message,
        original=original,
        content_type="image/png",
        width=20,
        height=10,
        size=100,
        thumbnail=thumbnail,
        thumbnail_width=20,
        thumbnail_height=10,
        status=Attachment.Status.READY,
    )


def posted_with_preview(room, author, url="https://example.com/a") -> LinkPreview:
    message = Message.objects.create(room=room, author=author, body=f"see {url}")
    image = default_storage.save("previews/p.webp", ContentFile(b"RIFF....WEBP"))
    return LinkPreview.objects.create(
        message=message,
        url=url,
        status=LinkPreview.Status.READY,
        title="A page",
        image=image,
    )


def ready_export(room, user) -> TranscriptExport:
    name = default_storage.save("exports/1-secret.csv", ContentFile(b"id,sent_at,author,body\r\n"))
    return TranscriptExport.objects.create(
        room=room,
        requested_by=user,
        format="csv",
        status=TranscriptExport.Status.READY,
        file=name,
    )


def status(client, url: str) -> int:
    response = client.get(url)
    response.close()  # a served file's handle
    return int(response.status_code)


def same_as_missing(client, url: str, missing_url: str, method: str = "get", **data) -> None:
    send = getattr(client, method)
    hidden = send(url, data, **HTMX) if data else send(url, **HTMX)
    missing = send(missing_url, data, **HTMX) if data else send(missing_url, **HTMX)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def test_an_outsider_cannot_upload_to_a_private_room(client, linus, secret):
    file = SimpleUploadedFile("p.png", png(), content_type="image/png")
    as_user(client, linus)
    hidden = client.post("/rooms/secret/attachments/", {"image": file}, **HTMX)
    file.seek(0)
    missing = client.post("/rooms/no-such-room/attachments/", {"image": file}, **HTMX)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    assert not Message.objects.exists()
    assert not Attachment.objects.exists()


def test_an_outsider_cannot_request_an_export_of_a_private_room(client, linus, secret):
    as_user(client, linus)
    same_as_missing(
        client, "/rooms/secret/exports/", "/rooms/no-such-room/exports/", "post", format="csv"
    )
    assert not TranscriptExport.objects.exists()
    assert not DBTaskResult.objects.exists()


@pytest.mark.parametrize("kind", ["original", "thumbnail"])
def test_an_outsider_cannot_fetch_a_private_room_s_attachment(client, ada, linus, secret, kind):
    attachment = posted_with_image(secret, ada)
    as_user(client, linus)
    same_as_missing(
        client,
        f"/attachments/{attachment.pk}/{kind}/",
        f"/attachments/{attachment.pk + 1000}/{kind}/",
    )
    assert status(as_user(client, ada), f"/attachments/{attachment.pk}/{kind}/") == 200


def test_an_outsider_cannot_fetch_a_private_room_s_preview_image(client, ada, linus, secret):
    preview = posted_with_preview(secret, ada)
    as_user(client, linus)
    same_as_missing(
        client, f"/previews/{preview.pk}/image/", f"/previews/{preview.pk + 1000}/image/"
    )
    assert status(as_user(client, ada), f"/previews/{preview.pk}/image/") == 200


def test_a_member_who_left_loses_the_room_s_files_and_exports(client, ada, grace, secret):
    attachment = posted_with_image(secret, ada)
    preview = posted_with_preview(secret, ada)
    export = ready_export(secret, grace)
    urls = [
        f"/attachments/{attachment.pk}/original/",
        f"/attachments/{attachment.pk}/thumbnail/",
        f"/previews/{preview.pk}/image/",
        f"/exports/{export.pk}/download/",
    ]
    as_user(client, grace)
    assert [status(client, url) for url in urls] == [200, 200, 200, 200]

    room_actions.membership_end(room=secret, member=grace, by=grace)

    assert [status(client, url) for url in urls] == [404, 404, 404, 404]
    response = client.post("/rooms/secret/exports/", {"format": "json"}, **HTMX)
    assert response.status_code == 404
    assert TranscriptExport.objects.count() == 1


def test_the_export_action_refuses_a_non_member(linus, secret):
    with pytest.raises(logic.Forbidden):
        export_actions.export_request(room=secret, user=linus, export_format="csv")
    assert not TranscriptExport.objects.exists()


def test_served_files_are_not_kept_by_the_browser(client, ada, room):
    attachment = posted_with_image(room, ada)
    response = as_user(client, ada).get(f"/attachments/{attachment.pk}/thumbnail/")
    response.close()
    assert response["Cache-Control"] == "private, no-cache"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_blocked_author_s_attachment_and_preview_are_not_shown_to_the_blocker(
    client, ada, grace, room
):
    attachment = posted_with_image(room, grace, body="my cat")
    preview = posted_with_preview(room, grace)
    Block.objects.create(blocker=ada, blocked=grace)
    html = as_user(client, ada).get("/rooms/general/").content.decode()
    assert f'id="attachment-{attachment.message_id}"' not in html
    assert f'id="preview-{preview.message_id}"' not in html
    assert "A page" not in html
    # Direct links are not a way around it either.
    assert status(client, f"/attachments/{attachment.pk}/original/") == 404
    assert status(client, f"/previews/{preview.pk}/image/") == 404
    # Everyone else still sees them.
    other = as_user(client, grace).get("/rooms/general/").content.decode()
    assert f'id="attachment-{attachment.message_id}"' in other
    assert f'id="preview-{preview.message_id}"' in other
