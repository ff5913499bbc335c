"""The chat tasks end to end, as the worker runs them: queued on commit by an action, run by
the worker loop (the `run_tasks` fixture), their results pushed live."""

import io
import json
import struct
import threading
import zlib
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.tasks.base import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from PIL import Image

from accounts.models import Block
from chat import logic
from chat.actions import messages as message_actions
from chat.actions import rooms as room_actions
from chat.attachments import actions as attachment_actions
from chat.attachments import images
from chat.attachments import results as attachment_results
from chat.exports import actions as export_actions
from chat.models import Attachment, LinkPreview, Membership, Message, Room, TranscriptExport
from chat.previews import results as preview_results
from notifications.models import Notification
from tests.servers import hung_up

pytestmark = pytest.mark.django_db


def png(width=64, height=48, color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


HOSTILE_PAGE = b"""<html><head>
<title>ignored</title>
<meta property="og:title" content="&lt;img src=x onerror=alert(1)&gt; Great post">
<meta property="og:description" content="<script>steal()</script> A description">
<meta property="og:site_name" content="Example &amp; Co">
<meta property="og:image" content="/card.png">
</head><body></body></html>"""


@pytest.fixture
def post(ada, room, django_capture_on_commit_callbacks):
    def send(body):
        with django_capture_on_commit_callbacks(execute=True):
            return message_actions.message_post(room=room, author=ada, body=body, client_id=None)

    return send


@pytest.fixture
def work(run_tasks, django_capture_on_commit_callbacks):
    """Run the due tasks, with what they schedule on commit."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return run_tasks()

    return run


def due_now():
    """Make every waiting retry due now, as if its backoff had passed."""
    DBTaskResult.objects.filter(status=TaskResultStatus.READY).update(run_after=timezone.now())


@pytest.mark.usefixtures("allow_local_site")
def test_a_link_gets_a_preview_card_pushed_to_the_room(site, post, work, pushes, room):
    site.reply("/post", HOSTILE_PAGE)
    site.reply("/card.png", png(800, 400), content_type="image/png")
    message = post(f"read this {site.url('/post')} now")
    assert LinkPreview.objects.get().status == LinkPreview.Status.PENDING
    pushes.sent.clear()

    assert work() == 1
    preview = LinkPreview.objects.get(message=message)
    assert preview.status == LinkPreview.Status.READY
    assert preview.title == "<img src=x onerror=alert(1)> Great post"
    assert default_storage.exists(preview.image)

    [html] = pushes.to(f"chat.room.{room.id}")
    assert f'id="preview-{message.id}"' in html
    assert 'hx-swap-oob="true"' in html
    assert "&lt;img src=x onerror=alert(1)&gt; Great post" in html
    assert "&lt;script&gt;steal()&lt;/script&gt; A description" in html
    assert "<script>" not in html
    assert "<img src=x" not in html
    assert f"/previews/{preview.pk}/image/" in html


def test_a_link_to_this_server_is_refused_without_fetching(site, post, work, pushes, room):
    site.reply("/secret", b"<title>internal</title>")
    message = post(f"look {site.url('/secret')}")
    pushes.sent.clear()

    work()
    preview = LinkPreview.objects.get(message=message)
    assert preview.status == LinkPreview.Status.FAILED
    assert "loopback" in preview.error
    assert site.requests == []
    [html] = pushes.to(f"chat.room.{room.id}")
    assert "No preview:" in html
    # A refusal is final: nothing is queued to try again.
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists()


@pytest.mark.usefixtures("allow_local_site")
def test_failures_retry_with_backoff_then_show_as_failed(
    site, post, work, pushes, room, settings, frozen_now
):
    settings.TASK_RETRY_ATTEMPTS = 3
    settings.TASK_RETRY_BASE_DELAY = 30
    site.reply("/flaky", b"down", status=503)
    message = post(f"{site.url('/flaky')}")
    pushes.sent.clear()

    work()
    retry = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    assert retry.args_kwargs["kwargs"]["attempt"] == 2
    assert retry.run_after == frozen_now + timedelta(seconds=30)
    assert work() == 0  # not due yet
    assert LinkPreview.objects.get().status == LinkPreview.Status.PENDING
    assert pushes.sent == []

    due_now()
    work()
    retry = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    assert retry.args_kwargs["kwargs"]["attempt"] == 3
    assert retry.run_after == frozen_now + timedelta(seconds=60)  # doubled

    due_now()
    work()
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists()
    assert DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).count() == 3
    preview = LinkPreview.objects.get(message=message)
    assert preview.status == LinkPreview.Status.FAILED
    assert preview.error == "The site answered 503."
    [html] = pushes.to(f"chat.room.{room.id}")
    assert "No preview: The site answered 503." in html
    assert len(site.requests) == 3


@pytest.mark.usefixtures("allow_local_site")
def test_a_retry_that_succeeds_shows_the_card(site, post, work):
    site.reply("/later", b"down", status=500)
    post(site.url("/later"))
    work()
    site.reply("/later", b"<title>Up again</title>")
    due_now()
    work()
    assert LinkPreview.objects.get().title == "Up again"


def png_claiming(width: int, height: int) -> bytes:
    """A valid 1x1 PNG whose header claims another size: a decompression bomb in a few bytes."""
    data = bytearray(png(1, 1))
    header = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return bytes(data)


@pytest.mark.usefixtures("allow_local_site")
def test_a_page_whose_image_is_a_decompression_bomb_gets_its_card_without_the_image(
    site, post, work, pushes, room
):
    site.reply("/post", HOSTILE_PAGE)
    # 10 billion pixels: far past Pillow's own limit, which raises as the header is read.
    site.reply("/card.png", png_claiming(100_000, 100_000), content_type="image/png")
    message = post(site.url("/post"))
    pushes.sent.clear()

    assert work() == 1
    preview = LinkPreview.objects.get(message=message)
    assert (preview.status, preview.image) == (LinkPreview.Status.READY, "")
    assert preview.title == "<img src=x onerror=alert(1)> Great post"
    assert [path for path, _ in site.requests] == ["/post", "/card.png"]
    [html] = pushes.to(f"chat.room.{room.id}")
    assert "Great post" in html
    assert f"/previews/{preview.pk}/image/" not in html
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists()


@pytest.mark.usefixtures("allow_local_site")
def test_a_site_that_stalls_in_its_headers_frees_the_worker_at_the_deadline(
    site, post, work, settings
):
    # The worker's fetch runs on the system clock: this waits for the real deadline.
    settings.LINK_PREVIEW_TIMEOUT = 0.5
    settings.TASK_RETRY_BASE_DELAY = 60  # the retry is not due within this test
    hung_up_on = threading.Event()

    def stall(handler):
        # The status line and a header, then nothing until the worker hangs up.
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
        handler.wfile.flush()
        if hung_up(handler):
            hung_up_on.set()

    site.routes["/stall"] = stall
    site.reply("/fine", b"<title>Fine</title>")
    slow = post(site.url("/stall"))
    fine = post(site.url("/fine"))

    assert work() == 2  # the task queued behind the slow site ran too
    assert hung_up_on.wait(30)  # the site never gave up: the deadline freed the worker
    assert LinkPreview.objects.get(message=fine).title == "Fine"
    assert LinkPreview.objects.get(message=slow).status == LinkPreview.Status.PENDING
    retry = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    assert retry.args_kwargs["kwargs"]["attempt"] == 2


def test_messages_without_links_queue_nothing(post):
    post("no links here")
    assert not LinkPreview.objects.exists()
    assert not DBTaskResult.objects.exists()


def upload(ada, room, data, caption="", capture=None):
    decoded = images.decode_image(io.BytesIO(data), max_pixels=30_000_000)
    return attachment_actions.message_post_with_image(
        room=room,
        author=ada,
        body=caption,
        upload=io.BytesIO(data),
        decoded=decoded,
        size=len(data),
        client_id=None,
    )


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


# Edits and deletes: the preview follows the text, a deleted message keeps nothing. ---------


def edit(message, body, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return message_actions.message_edit(message=message, editor=message.author, body=body)


@pytest.mark.usefixtures("allow_local_site")
def test_an_edit_to_another_link_fetches_its_preview(
    site, post, work, pushes, room, django_capture_on_commit_callbacks
):
    site.reply("/one", b"<title>One</title>")
    site.reply("/two", b"<title>Two</title>")
    message = post(f"see {site.url('/one')}")
    work()
    first = LinkPreview.objects.get(message=message)
    assert first.title == "One"
    pushes.sent.clear()

    edit(message, f"no, see {site.url('/two')}", django_capture_on_commit_callbacks)
    [edited] = pushes.to(f"chat.room.{room.id}")
    assert "(edited)" in edited
    assert "One" not in edited  # the old card is gone at once; the new one is on its way
    assert 'data-status="pending"' in edited
    assert not LinkPreview.objects.filter(pk=first.pk).exists()
    pushes.sent.clear()

    assert work() == 1
    assert LinkPreview.objects.get(message=message).title == "Two"
    [card] = pushes.to(f"chat.room.{room.id}")
    assert f'id="preview-{message.id}"' in card
    assert "Two" in card


@pytest.mark.usefixtures("allow_local_site")
def test_an_edit_that_keeps_the_link_keeps_its_preview(
    site, post, work, room, django_capture_on_commit_callbacks
):
    site.reply("/one", b"<title>One</title>")
    message = post(f"see {site.url('/one')}")
    work()
    preview = LinkPreview.objects.get(message=message)
    edit(message, f"do see {site.url('/one')}!", django_capture_on_commit_callbacks)
    assert LinkPreview.objects.get(message=message).pk == preview.pk
    assert work() == 0  # nothing fetched again


@pytest.mark.usefixtures("allow_local_site")
def test_an_edit_that_removes_the_link_removes_the_preview(
    site, post, work, pushes, room, django_capture_on_commit_callbacks
):
    site.reply("/one", b"<title>One</title>")
    message = post(f"see {site.url('/one')}")
    work()
    pushes.sent.clear()
    edit(message, "never mind", django_capture_on_commit_callbacks)
    assert not LinkPreview.objects.exists()
    [edited] = pushes.to(f"chat.room.{room.id}")
    assert f'id="preview-{message.id}"' not in edited


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


@pytest.mark.usefixtures("allow_local_site")
def test_a_preview_fetched_after_its_message_was_deleted_is_thrown_away(
    ada, site, post, work, pushes, room, django_capture_on_commit_callbacks, monkeypatch
):
    site.reply("/post", HOSTILE_PAGE)
    site.reply("/card.png", png(800, 400), content_type="image/png")
    message = post(f"read {site.url('/post')}")
    store = preview_results.link_preview_store

    def deleted_meanwhile(**kwargs):
        message_actions.message_delete(message=Message.objects.get(pk=message.pk), deleter=ada)
        store(**kwargs)

    monkeypatch.setattr(preview_results, "link_preview_store", deleted_meanwhile)
    pushes.sent.clear()
    work()
    assert not LinkPreview.objects.exists()
    assert not default_storage.exists("previews") or not default_storage.listdir("previews")[1]
    assert not any("preview-" in html for html in pushes.to(f"chat.room.{room.id}"))


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


# Exports read the room as their owner may, when they are built. ---------------------------


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
