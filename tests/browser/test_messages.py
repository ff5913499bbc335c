"""Sending and reading messages in a room, as two people in two browsers."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, expect

from tests.browser.conftest import Person, Server

# Set on a page's window; if it is still there later, the page was never reloaded.
MARK_DOCUMENT = "window.__sameDocument = true"
SAME_DOCUMENT = "window.__sameDocument === true"


def live_message(someone: Person, text: str) -> Locator:
    return someone.page.locator("#messages .message").filter(has_text=text)


@pytest.mark.browser
def test_a_message_appears_for_the_other_person_without_a_reload(
    person: Callable[..., Person],
) -> None:
    ada, grace = person("ada"), person("grace")
    ada.open_room("general")
    grace.open_room("general")
    grace.page.evaluate(MARK_DOCUMENT)

    ada.send("Grace, are you seeing this live?")

    arrived = live_message(grace, "Grace, are you seeing this live?")
    expect(arrived).to_have_count(1)
    expect(arrived.locator(".author")).to_have_text("ada")
    assert grace.page.evaluate(SAME_DOCUMENT), "grace's page navigated instead of updating"
    expect(live_message(ada, "Grace, are you seeing this live?")).to_have_count(1)
    expect(ada.composer()).to_have_value("")


@pytest.mark.browser
def test_shift_enter_adds_a_line_and_enter_sends(person: Callable[..., Person]) -> None:
    ada = person("ada")
    ada.open_room("random")
    box = ada.composer()

    box.press_sequentially("Two lines:")
    box.press("Shift+Enter")
    box.press_sequentially("this is the second.")
    # Still in the box: Shift+Enter did not send (a send clears it).
    expect(box).to_have_value("Two lines:\nthis is the second.")

    box.press("Enter")

    sent = live_message(ada, "Two lines:")
    expect(sent).to_have_count(1)
    expect(sent.locator(".body")).to_have_js_property(
        "innerHTML", "Two lines:<br>this is the second."
    )
    expect(box).to_have_value("")


@pytest.mark.browser
def test_a_blank_message_is_refused_with_an_error_in_the_composer(
    person: Callable[..., Person],
) -> None:
    ada = person("ada")
    ada.open_room("django")
    history = ada.page.locator("#history .message")
    saved_before = history.count()
    box = ada.composer()
    error = ada.page.locator("#composer-error")

    # Spaces satisfy the textarea's `required`, so the send reaches the server.
    box.press_sequentially("   ")
    box.press("Enter")

    expect(error).to_have_text("Type a message first.")
    expect(error).to_be_visible()
    expect(box).to_have_accessible_description(
        "Enter sends · Shift+Enter adds a line Type a message first."
    )
    expect(ada.page.locator("#messages .message")).to_have_count(0)
    expect(box).to_be_focused()

    box.fill("Now with words.")
    box.press("Enter")
    expect(live_message(ada, "Now with words.")).to_have_count(1)
    expect(error).to_be_hidden()

    ada.page.reload()
    expect(history).to_have_count(saved_before + 1)
    expect(history.last).to_contain_text("Now with words.")


@pytest.mark.browser
def test_html_in_a_message_is_shown_as_text_and_links_are_clickable(
    person: Callable[..., Person],
) -> None:
    ada, grace = person("ada"), person("grace")
    ada.open_room("general")
    grace.open_room("general")
    hostile = (
        "<img src=x onerror=alert(1)> <script>alert(2)</script> read https://example.com/guide"
    )

    ada.send(hostile)

    for someone in (grace, ada):
        body = live_message(someone, "read https://example.com/guide").locator(".body")
        expect(body).to_have_text(hostile)
        expect(body.locator("img, script")).to_have_count(0)
        link = body.get_by_role("link", name="https://example.com/guide")
        expect(link).to_have_attribute("href", "https://example.com/guide")

    # The same message rendered into the history on a fresh page load.
    grace.page.reload()
    body = grace.page.locator("#history .message").last.locator(".body")
    expect(body).to_have_text(hostile)
    expect(body.locator("img, script")).to_have_count(0)
    assert grace.dialogs == []
    assert ada.dialogs == []


ARCHIVE_SIZE = 60
SEED_ARCHIVE = f"""
from django.contrib.auth import get_user_model
from chat.models import Message, Room

author = get_user_model().objects.get(username="linus")
room = Room.objects.create(name="Archive", slug="archive", topic="Older than one page")
Message.objects.bulk_create(
    Message(room=room, author=author, body=f"Archived note {{n:02}}")
    for n in range(1, {ARCHIVE_SIZE + 1})
)
"""


@pytest.mark.browser
def test_older_messages_load_on_demand(person: Callable[..., Person], server: Server) -> None:
    server.manage("shell", "-c", SEED_ARCHIVE)
    ada = person("ada")
    ada.open_room("archive")
    ada.page.evaluate(MARK_DOCUMENT)
    bodies = ada.page.locator("#history .message .body")

    # The newest page of fifty: notes 11 to 60.
    expect(bodies).to_have_count(50)
    expect(bodies.first).to_have_text("Archived note 11")
    expect(bodies.last).to_have_text("Archived note 60")
    expect(ada.page.get_by_text("This is the beginning of #Archive.")).to_have_count(0)

    ada.page.get_by_role("button", name="Load older messages").click()

    expect(bodies).to_have_count(ARCHIVE_SIZE)
    expect(bodies).to_have_text([f"Archived note {n:02}" for n in range(1, ARCHIVE_SIZE + 1)])
    expect(ada.page.get_by_text("This is the beginning of #Archive.")).to_be_visible()
    expect(ada.page.get_by_role("button", name="Load older messages")).to_have_count(0)
    assert ada.page.evaluate(SAME_DOCUMENT)
