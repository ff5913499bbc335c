"""Hearing about what is yours: a first direct message on every tab of its recipient, and
the tab title while the tab is in the background (frontend/notify.js)."""

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Person, Server
from tests.browser.notifications.pages import open_page, open_tab
from tests.browser.test_unread import healthy
from tests.servers import DEMO_PASSWORD

NEW_PERSON = """
from django.contrib.auth import get_user_model
get_user_model().objects.create_user(username="{username}", password="{password}")
"""

# Chromium runs every page of a headless test visible; this is what the browser does when
# the person switches to another tab.
HIDE = """
Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
document.dispatchEvent(new Event("visibilitychange"));
"""
SHOW = """
Object.defineProperty(document, "visibilityState", {value: "visible", configurable: true});
document.dispatchEvent(new Event("visibilitychange"));
"""


def new_person(server: Server) -> str:
    username = f"new{uuid.uuid4().hex[:8]}"
    server.manage("shell", "-c", NEW_PERSON.format(username=username, password=DEMO_PASSWORD))
    return username


def send_direct_message(sender: Person, to: str, text: str) -> None:
    sender.page.goto(f"/people/{to}/")
    sender.page.get_by_role("button", name="Send a message").click()
    expect(sender.page.locator("#connection-status")).to_have_text("Connected")
    sender.send(text)
    expect(sender.page.locator("#messages .message", has_text=text)).to_be_visible()


@pytest.mark.browser
def test_a_first_direct_message_shows_a_toast_and_a_count_on_every_tab(
    person: Callable[..., Person], server: Server
) -> None:
    """Before: the conversation appeared in the sidebar with no count, no toast, no bell."""
    username = new_person(server)
    recipient = person(username)
    open_page(recipient, "/")
    in_a_room = open_tab(recipient)
    open_page(in_a_room, "/rooms/general/")
    linus = person("linus")

    send_direct_message(linus, username, "Hello, new person")

    for tab in (recipient, in_a_room):
        conversation = tab.page.locator("#direct-list li", has_text="linus")
        expect(conversation.locator(".unread-count")).to_have_text("1")
        expect(conversation.locator(".unread")).to_be_visible()
        toast = tab.page.locator("#toasts .toast", has_text="wrote to you")
        expect(toast).to_contain_text("linus")
        expect(toast).to_contain_text("Hello, new person")
        expect(tab.page.locator("#bell")).to_have_attribute("data-count", "1")

    # After a reload the count is still there, from the server.
    recipient.page.reload()
    conversation = recipient.page.locator("#direct-list li", has_text="linus")
    expect(conversation.locator(".unread-count")).to_have_text("1")
    expect(recipient.page.locator("#bell")).to_have_attribute("data-count", "1")
    # The sender's profile page has no room list: the new conversation's link is not pushed
    # there (before, htmx logged "target not found").
    healthy(recipient, linus)


@pytest.mark.browser
def test_the_tab_title_counts_unread_messages_while_the_tab_is_hidden(
    person: Callable[..., Person], server: Server
) -> None:
    username = new_person(server)
    recipient = person(username)
    open_page(recipient, "/")
    title = recipient.page.title()
    recipient.page.evaluate(HIDE)
    grace = person("grace")

    send_direct_message(grace, username, "First")
    expect(recipient.page).to_have_title(f"(1) {title}")
    grace.send("Second")
    expect(recipient.page).to_have_title(f"(2) {title}")

    recipient.page.evaluate(SHOW)
    expect(recipient.page).to_have_title(title)
    healthy(recipient)


# The Notification API, recorded: what the page asked and what it showed. Chromium headless
# has no desktop to show notifications on.
FAKE_NOTIFICATIONS = """
window.__asked = 0;
window.__shown = [];
class FakeNotification {
  static permission = "default";
  static requestPermission() {
    window.__asked += 1;
    FakeNotification.permission = "granted";
    return Promise.resolve("granted");
  }
  constructor(title, options) { window.__shown.push({ title, ...options }); }
  addEventListener() {}
  close() {}
}
window.Notification = FakeNotification;
"""


@pytest.mark.browser
def test_desktop_notifications_are_asked_for_on_a_click_and_shown_for_a_direct_message(
    person: Callable[..., Person], server: Server
) -> None:
    username = new_person(server)
    recipient = person()
    recipient.page.context.add_init_script(FAKE_NOTIFICATIONS)
    recipient.sign_in(username)
    open_page(recipient, "/notifications/")
    assert recipient.page.evaluate("window.__asked") == 0  # never on load
    button = recipient.page.get_by_role("button", name="Turn on desktop notifications")
    button.click()
    expect(
        recipient.page.get_by_role("button", name="Turn off desktop notifications")
    ).to_be_visible()
    assert recipient.page.evaluate("window.__asked") == 1
    recipient.page.evaluate(HIDE)
    linus = person("linus")

    send_direct_message(linus, username, "Are you there?")

    recipient.page.wait_for_function("window.__shown.length === 1")
    [shown] = recipient.page.evaluate("window.__shown")
    assert shown["title"] == "Relay"
    assert "linus wrote to you" in shown["body"]
    assert "Are you there?" in shown["body"]
    assert shown["tag"].startswith("relay-toast-")
    healthy(recipient)


PRIVATE_ROOM = """
from django.contrib.auth import get_user_model
from chat.models import Membership, Room
users = get_user_model().objects.filter(username__in=["{a}", "{b}"])
room = Room.objects.create(name="{name}", slug="{slug}", kind=Room.Kind.PRIVATE)
Membership.objects.bulk_create(Membership(room=room, user=user) for user in users)
"""


@pytest.mark.browser
def test_a_mention_marks_its_room_in_the_list_live_and_after_a_reload(
    person: Callable[..., Person], server: Server
) -> None:
    writer, reader = new_person(server), new_person(server)
    token = uuid.uuid4().hex[:8]
    name, slug = f"Plans {token}", f"plans-{token}"
    server.manage("shell", "-c", PRIVATE_ROOM.format(a=writer, b=reader, name=name, slug=slug))
    listening = person(reader)
    open_page(listening, "/")
    speaking = person(writer)
    speaking.open_room(slug)

    speaking.send("no mention here")
    item = listening.page.locator("#room-list li", has_text=name)
    expect(item.locator(".unread-count")).to_have_text("1")
    expect(item.locator(".unread-mention")).to_be_hidden()
    speaking.send(f"@{reader} have a look")
    expect(item.locator(".unread-count")).to_have_text("2")
    expect(item.locator(".unread-mention")).to_be_visible()

    listening.page.reload()
    item = listening.page.locator("#room-list li", has_text=name)
    expect(item.locator(".unread-count")).to_have_text("2")
    expect(item.locator(".unread-mention")).to_be_visible()
    healthy(listening, speaking)
