"""The rough edges a visitor meets in the first five minutes, each as a person would meet it:
a long paste, the message editor's keys, names that lead to profiles, right-to-left text,
grouped messages with avatars, a toast that leaves Send alone, an image post that stays in
view, and the site's own 404 page (this server runs with DEBUG)."""

import io
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Locator, ViewportSize, expect

from tests.browser.conftest import Person

SIZES: list[ViewportSize] = [{"width": 390, "height": 844}, {"width": 1280, "height": 800}]
TASK_TIMEOUT_MS = 20_000


def unique(text: str) -> str:
    return f"{text} {uuid.uuid4().hex[:6]}"


def message(someone: Person, text: str) -> Locator:
    return someone.page.locator(".message").filter(has_text=text)


@pytest.mark.browser
def test_a_long_paste_is_counted_and_refused_not_cut(person: Callable[..., Person]) -> None:
    ada = person("ada")
    ada.open_room("random")
    counter = ada.page.locator("#composer-count")

    ada.composer().fill("x" * 3_599)
    expect(counter).to_have_text("")
    ada.composer().fill("x" * 3_600)
    expect(counter).to_have_text("3,600 / 4,000")
    ada.composer().fill("y" * 4_001)  # as a paste: nothing is cut
    expect(counter).to_have_text("4,001 / 4,000")
    ada.composer().press("Enter")

    expect(ada.page.locator("#composer-error")).to_have_text(
        "That message is 4,001 characters long; the limit is 4,000."
    )
    assert len(ada.composer().input_value()) == 4_001
    expect(ada.composer()).to_have_attribute("aria-invalid", "")
    assert ada.page.url.endswith("/rooms/random/")  # the form was not submitted as a page
    ada.composer().fill("short again")
    expect(counter).to_have_text("")


@pytest.mark.browser
def test_the_editor_takes_focus_enter_saves_escape_cancels(person: Callable[..., Person]) -> None:
    ada = person("ada")
    ada.open_room("random")
    text = unique("Editable")
    ada.send(text)
    mine = message(ada, text)
    expect(mine).to_have_count(1)

    mine.hover()
    mine.get_by_role("button", name="Edit").click()
    editor = ada.page.get_by_label("Edit message")
    expect(editor).to_be_focused()
    editor.press("End")
    editor.press_sequentially(" and edited")
    editor.press("Enter")
    expect(message(ada, f"{text} and edited")).to_contain_text("(edited)")

    message(ada, text).hover()
    message(ada, text).get_by_role("button", name="Edit").click()
    expect(editor).to_be_focused()
    editor.press_sequentially(" not kept")
    editor.press("Escape")
    expect(editor).to_have_count(0)
    expect(message(ada, text).locator(".body")).to_have_text(f"{text} and edited")
    assert ada.console_errors == []


@pytest.mark.browser
def test_names_lead_to_profiles_and_messages_have_avatars(person: Callable[..., Person]) -> None:
    ada = person("ada")
    ada.open_room("random")
    first, second = unique("One"), unique("Two")
    ada.send(first)
    expect(message(ada, first)).to_have_count(1)
    ada.send(second)
    expect(message(ada, second)).to_have_count(1)

    expect(message(ada, first).locator(".avatar")).to_have_text("AD")
    # Consecutive messages of one person are grouped: one name and avatar.
    expect(message(ada, second)).to_have_class("message is-continued")
    expect(message(ada, second).locator(".author")).to_be_hidden()
    expect(message(ada, second).locator(".avatar")).to_be_hidden()
    # Its time shows on hover in the avatars' column, clear of the text.
    message(ada, second).hover()
    time_box = message(ada, second).locator("header time").bounding_box()
    body_box = message(ada, second).locator(".body").bounding_box()
    assert time_box is not None
    assert body_box is not None
    assert time_box["x"] + time_box["width"] <= body_box["x"]
    grace = person("grace")
    grace.open_room("random")
    expect(message(grace, first).locator(".author")).to_have_attribute("href", "/people/ada/")
    grace.send(unique("Someone else"))
    expect(message(grace, second)).to_have_class("message is-continued")
    ada_says = unique("ada again")
    ada.send(ada_says)
    author = message(grace, ada_says).locator(".author")
    expect(author).to_be_visible()  # after someone else spoke: a new group
    author.click()
    expect(grace.page.get_by_role("heading", name="ada")).to_be_visible()
    assert grace.page.url.endswith("/people/ada/")


@pytest.mark.browser
def test_right_to_left_text_is_laid_out_right_to_left(person: Callable[..., Person]) -> None:
    ada = person("ada")
    ada.open_room("random")
    text = f"مرحبا بالجميع {uuid.uuid4().hex[:4]}"
    ada.send(text)
    body = message(ada, text).locator(".body")
    expect(body).to_have_count(1)
    assert body.evaluate("el => getComputedStyle(el).direction") == "rtl"
    latin = unique("Hello everyone")
    ada.send(latin)
    latin_body = message(ada, latin).locator(".body")
    assert latin_body.evaluate("el => getComputedStyle(el).direction") == "ltr"


def overlaps(a: Locator, b: Locator) -> bool:
    one, two = a.bounding_box(), b.bounding_box()
    assert one is not None
    assert two is not None
    return not (
        one["x"] + one["width"] <= two["x"]
        or two["x"] + two["width"] <= one["x"]
        or one["y"] + one["height"] <= two["y"]
        or two["y"] + two["height"] <= one["y"]
    )


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES, ids=["phone", "desktop"])
def test_a_mention_toast_leaves_the_composer_free(
    person: Callable[..., Person], size: ViewportSize
) -> None:
    ada = person("ada")
    grace = person("grace")
    grace.page.set_viewport_size(size)
    grace.open_room("random")
    ada.open_room("random")
    text = unique("@grace look")

    ada.send(text)

    toast = grace.page.locator("#toasts .toast").filter(has_text="ada mentioned you")
    expect(toast).to_be_in_viewport(ratio=1)
    toast.evaluate("(el) => Promise.all(el.getAnimations().map((a) => a.finished))")
    assert not overlaps(toast, grace.page.locator("#composer"))


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 140, 90)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES, ids=["phone", "desktop"])
def test_an_image_post_stays_in_view_once_its_thumbnail_arrives(
    person: Callable[..., Person], size: ViewportSize, tmp_path: Path
) -> None:
    ada = person("ada")
    ada.page.set_viewport_size(size)
    ada.open_room("random")
    photo = tmp_path / "tall.png"
    photo.write_bytes(png(600, 900))
    caption = unique("Tall photo")

    ada.page.get_by_text("Attach an image").click()
    ada.page.get_by_label("Image", exact=True).set_input_files(photo)
    ada.page.get_by_label("Caption").fill(caption)
    ada.page.get_by_role("button", name="Attach").click()

    thumbnail = message(ada, caption).locator(".attachment img")
    expect(thumbnail).to_be_visible(timeout=TASK_TIMEOUT_MS)
    thumbnail.evaluate("img => img.decode()")
    expect(thumbnail).to_be_in_viewport(ratio=1)


@pytest.mark.browser
def test_a_missing_page_is_the_sites_own(person: Callable[..., Person]) -> None:
    ada = person("ada")

    response = ada.page.goto("/no/such/page/")

    assert response is not None
    assert response.status == 404
    expect(ada.page.get_by_role("heading", name="Nothing here")).to_be_visible()
    expect(ada.page.get_by_role("link", name="Back to the rooms")).to_be_visible()


@pytest.mark.browser
def test_a_refused_request_shows_its_reason_without_console_noise(
    person: Callable[..., Person],
) -> None:
    ada = person("ada")
    ada.open_room("general")

    ada.page.get_by_label("New room").fill("bad\u0000name")
    ada.page.get_by_role("button", name="Create").click()

    expect(ada.page.locator("#socket-error")).to_contain_text("contains a NUL character")
    ada.page.goto("/people/grace/")  # leaving closes the socket: no send after that
    expect(ada.page.get_by_role("heading", name="grace")).to_be_visible()
    assert ada.csp_violations() == []
    # Chromium reports every 4xx response itself; nothing else may be said.
    assert [error.split(": ", 1)[1] for error in ada.console_errors] == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]


@pytest.mark.browser
def test_message_actions_show_on_hover_or_focus_only(person: Callable[..., Person]) -> None:
    ada = person("ada")
    ada.page.set_viewport_size(SIZES[0])
    ada.open_room("random")
    text = unique("Actions hide")
    ada.send(text)
    mine = message(ada, text)
    expect(mine).to_have_count(1)
    actions = mine.locator(".message-actions")

    ada.page.mouse.move(0, 0)
    ada.composer().focus()
    expect(actions).to_have_css("opacity", "0")
    mine.focus()  # what a tap does on a phone
    expect(actions).to_have_css("opacity", "1")
    mine.get_by_role("button", name="Edit").click()
    expect(ada.page.get_by_label("Edit message")).to_be_focused()


@pytest.mark.browser
def test_a_new_direct_conversation_reaches_a_page_without_a_sidebar_quietly(
    person: Callable[..., Person],
) -> None:
    linus = person("linus")
    linus.page.goto("/notifications/")
    expect(linus.page.locator("#connection-status")).to_have_text("Connected")
    ada = person("ada")

    ada.page.goto("/people/linus/")
    ada.page.get_by_role("button", name="Send a message").click()
    expect(ada.page.get_by_role("heading", name="@linus")).to_be_visible()

    # The new conversation's sidebar link goes only to pages with a room list; the message that
    # follows reaches this page as a notification, after where the link would have arrived.
    ada.send("Hello linus")
    expect(linus.page.locator("#bell")).to_have_attribute("data-count", "1")
    assert linus.console_errors == []
    linus.page.goto("/")
    expect(linus.page.locator("#sidebar #direct-list a").filter(has_text="ada")).to_have_count(1)
