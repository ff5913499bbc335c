"""Slow work done by the task worker inside the server process, seen live in the browser:
link previews, image thumbnails and transcript exports."""

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import Person
from tests.servers import PageServer

# Remembers whether an element matching a selector was ever in the page, however briefly.
WATCH = """
(selector) => {
  window.__seen = window.__seen || {};
  const look = () => { if (document.querySelector(selector)) window.__seen[selector] = true; };
  const everything = {childList: true, subtree: true, attributes: true};
  new MutationObserver(look).observe(document.body, everything);
  look();
}
"""
TASK_TIMEOUT_MS = 15_000


def seen(someone: Person, selector: str) -> bool:
    return bool(someone.page.evaluate("(s) => !!(window.__seen || {})[s]", selector))


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 140, 90)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def site() -> Iterator[PageServer]:
    with PageServer() as server:
        yield server


@pytest.mark.browser
def test_a_posted_link_gets_its_preview_card_live(
    person: Callable[..., Person], site: PageServer
) -> None:
    site.reply(
        "/story",
        b"""<html><head><title>A story</title>
        <meta property="og:title" content="How &lt;b&gt;bold&lt;/b&gt; previews work">
        <meta property="og:description"
          content="&lt;img src=x onerror=alert(1)&gt;Fetched by a task, swapped in live.">
        <meta property="og:site_name" content="Local News">
        <meta property="og:image" content="/card.png"></head></html>""",
    )
    site.reply("/card.png", png(600, 300), content_type="image/png")
    ada, grace = person("ada"), person("grace")
    ada.open_room("general")
    grace.open_room("general")

    ada.send(f"Worth a read: {site.url('/story')}")

    for someone in (grace, ada):
        card = (
            someone.page.locator("#messages .message")
            .filter(has_text="Worth a read")
            .locator(".preview-card")
        )
        expect(card).to_be_visible(timeout=TASK_TIMEOUT_MS)
        expect(card.locator(".preview-title")).to_have_text("How <b>bold</b> previews work")
        expect(card.locator(".preview-title b")).to_have_count(0)
        expect(card.locator(".preview-description")).to_have_text(
            "<img src=x onerror=alert(1)>Fetched by a task, swapped in live."
        )
        expect(card.locator(".preview-description img")).to_have_count(0)
        expect(card.locator(".preview-site")).to_have_text("Local News")
        expect(card).to_have_attribute("href", site.url("/story"))
        image = card.locator("img.preview-image")
        expect(image).to_be_visible()
        assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
        assert someone.csp_violations() == []
        assert someone.console_errors == []
        assert someone.dialogs == []


@pytest.mark.browser
def test_an_attached_image_shows_a_placeholder_then_its_thumbnail(
    person: Callable[..., Person], tmp_path: Path
) -> None:
    ada, grace = person("ada"), person("grace")
    ada.open_room("random")
    grace.open_room("random")
    grace.page.evaluate(WATCH, "#messages .attachment-placeholder")
    photo = tmp_path / "harbour.png"
    photo.write_bytes(png(1600, 900))

    ada.page.get_by_text("Attach an image").click()
    ada.page.get_by_label("Image", exact=True).set_input_files(photo)
    ada.page.get_by_label("Caption").fill("The harbour at dawn")
    ada.page.get_by_role("button", name="Attach").click()

    message = grace.page.locator("#messages .message").filter(has_text="The harbour at dawn")
    expect(message).to_have_count(1)
    thumbnail = message.locator(".attachment img")
    expect(thumbnail).to_be_visible(timeout=TASK_TIMEOUT_MS)
    expect(thumbnail).to_have_attribute("width", "480")
    assert thumbnail.evaluate("img => img.decode().then(() => img.naturalWidth)") == 480
    assert seen(grace, "#messages .attachment-placeholder"), "no placeholder before the thumbnail"
    expect(message.locator(".attachment-placeholder")).to_have_count(0)
    # The sender's form is ready for the next image.
    expect(ada.page.get_by_label("Caption")).to_have_value("")
    for someone in (ada, grace):
        assert someone.csp_violations() == []
        assert someone.console_errors == []


@pytest.mark.browser
def test_a_refused_upload_says_why(person: Callable[..., Person], tmp_path: Path) -> None:
    ada = person("ada")
    ada.open_room("random")
    fake = tmp_path / "notes.png"
    fake.write_bytes(b"these are notes, not pixels")
    ada.page.get_by_text("Attach an image").click()
    ada.page.get_by_label("Image", exact=True).set_input_files(fake)
    ada.page.get_by_label("Caption").fill("my notes")
    ada.page.get_by_role("button", name="Attach").click()
    expect(ada.page.locator("#attach-error")).to_contain_text("not an image this chat can show")
    expect(ada.page.get_by_label("Caption")).to_have_value("my notes")


@pytest.mark.browser
def test_an_export_shows_progress_then_a_download_link(person: Callable[..., Person]) -> None:
    ada = person("ada")
    ada.open_room("django")
    ada.page.evaluate(WATCH, "#export-list progress")

    ada.page.get_by_text("Transcripts", exact=True).click()  # the room's menu
    ada.page.get_by_label("Export transcript as").select_option("json")
    ada.page.get_by_role("button", name="Export").click()

    link = ada.page.locator("#export-list a.export-download")
    expect(link).to_be_visible(timeout=TASK_TIMEOUT_MS)
    assert seen(ada, "#export-list progress"), "no progress bar before the link"
    expect(ada.page.locator("#toasts")).to_contain_text("Your transcript export is ready")
    with ada.page.expect_download() as download:
        link.click()
    document = json.loads(Path(download.value.path()).read_text())
    assert document["slug"] == "django"
    assert any("saved first" in message["body"] for message in document["messages"])
    assert ada.csp_violations() == []
    assert ada.console_errors == []


@pytest.mark.browser
def test_why_a_link_got_no_preview_is_shown_to_its_author_only(
    person: Callable[..., Person],
) -> None:
    ada, grace = person("ada"), person("grace")
    ada.open_room("random")
    grace.open_room("random")

    # A private address: refused before any connection is attempted.
    grace.send("The router admin page is http://10.0.0.1/admin")

    for someone in (grace, ada):
        message = someone.page.locator("#messages .message").filter(has_text="router admin")
        expect(message.locator(".link-preview")).to_have_attribute(
            "data-status", "failed", timeout=TASK_TIMEOUT_MS
        )
    expect(
        grace.page.locator("#messages .message")
        .filter(has_text="router admin")
        .locator(".preview-failed")
    ).to_be_visible()
    expect(grace.page.locator(".preview-failed").last).to_contain_text(
        "private or reserved network"
    )
    expect(
        ada.page.locator("#messages .message")
        .filter(has_text="router admin")
        .locator(".preview-failed")
    ).to_be_hidden()
