"""The link preview tasks end to end, as the worker runs them: queued on commit by an action,
run by the worker loop (the `run_tasks` fixture), their results pushed live."""

import struct
import threading
import zlib
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.tasks.base import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from chat.actions import messages as message_actions
from chat.models import LinkPreview, Message
from chat.previews import results as preview_results
from tests.chat.task_inputs import HOSTILE_PAGE, png
from tests.servers import hung_up

pytestmark = pytest.mark.django_db


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


# Each of these failed every attempt (UnicodeEncodeError, LookupError, a title no column
# holds) until the preview gave up with "Something went wrong".
@pytest.mark.usefixtures("allow_local_site")
@pytest.mark.parametrize(
    ("link", "served", "content_type", "page", "title"),
    [
        ("/wiki/Straße", "/wiki/Stra%C3%9Fe", "text/html", b"<title>Street</title>", "Street"),
        ("/odd", "/odd", "text/html; charset=made-up", "<title>Grüße</title>".encode(), "Grüße"),
        ("/nul", "/nul", "text/html; charset=utf-8", b"<title>a\0b</title>", "a\ufffdb"),
        (
            "/escaped",
            "/escaped",
            "text/html; charset=unicode_escape",
            b"<title>a\\ud800b\\x00c</title>",
            "a\ufffdb\ufffdc",
        ),
    ],
)
def test_a_page_a_browser_reads_gets_its_card(
    site, post, work, link, served, content_type, page, title
):
    site.reply(served, page, content_type=content_type)
    post(f"see {site.url(link)}")
    assert work() == 1
    preview = LinkPreview.objects.get()
    assert (preview.status, preview.title) == (LinkPreview.Status.READY, title)


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
