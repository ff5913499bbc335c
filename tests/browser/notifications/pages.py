"""What the notification browser tests share: scripts run in the page or the server, and
how a person finds the badge, the inbox, the toasts and the banner."""

import re
import uuid

from playwright.sync_api import ConsoleMessage, Dialog, Locator, expect

from tests.browser.conftest import Person

MARK_DOCUMENT = "window.__sameDocument = true"
SAME_DOCUMENT = "window.__sameDocument === true"
# Every HTML fragment the page's socket delivers, to tell "not shown" from "not arrived yet".
RECORD_FRAMES = """
() => {
  window.__frames = [];
  document.addEventListener("htmx:wsAfterMessage", (event) => {
    window.__frames.push(event.detail.message);
  });
}
"""
FRAMES_RECEIVED = """
([text, count]) => window.__frames.filter((frame) => frame.includes(text)).length >= count
"""

MARK_EVERYTHING_READ = """
from django.utils import timezone
from notifications.models import Notification

Notification.objects.filter(read_at__isnull=True).update(read_at=timezone.now())
"""

IS_UNREAD = re.compile(r"\bis-unread\b")
IS_READ = re.compile(r"\bis-read\b")


def unique() -> str:
    return uuid.uuid4().hex[:12]


def open_tab(someone: Person) -> Person:
    """Another tab in the same browser context: the same person, signed in, tracked the same
    way (its console errors and dialogs land in the same lists)."""
    page = someone.page.context.new_page()
    tab = Person(page=page, console_errors=someone.console_errors, dialogs=someone.dialogs)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            tab.console_errors.append(f"{page.url}: {message.text}")

    def on_dialog(dialog: Dialog) -> None:
        tab.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda error: tab.console_errors.append(f"{page.url}: {error}"))
    page.on("dialog", on_dialog)
    return tab


def open_page(tab: Person, path: str) -> None:
    tab.page.goto(path)
    expect(tab.page.locator("#connection-status")).to_have_text("Connected")
    tab.page.evaluate(MARK_DOCUMENT)


def open_inbox(tab: Person) -> None:
    open_page(tab, "/notifications/")


def expect_unread(tab: Person, count: int) -> None:
    bell = tab.page.locator("#bell")
    expect(bell).to_have_attribute("data-count", str(count))
    expect(bell).to_have_accessible_name(f"Notifications, {count} unread")
    if count:
        expect(bell.locator(".badge")).to_have_text(str(count))
        expect(bell.locator(".badge")).to_be_visible()
    else:
        expect(bell.locator(".badge")).to_be_hidden()


def inbox_items(tab: Person) -> Locator:
    return tab.page.locator("#notification-items > li")


def inbox_item(tab: Person, text: str) -> Locator:
    return inbox_items(tab).filter(has_text=text)


def toast(tab: Person, text: str) -> Locator:
    return tab.page.locator("#toasts .toast").filter(has_text=text)


def banner(tab: Person) -> Locator:
    return tab.page.locator("#announcement-banner")


def publish(author: Person, text: str) -> None:
    author.page.goto("/notifications/announce/")
    author.page.get_by_label("Announcement").fill(text)
    author.page.get_by_role("button", name="Publish").click()
    expect(author.page.get_by_text("Announcement published to everyone.")).to_be_visible()


def assert_same_document(*tabs: Person) -> None:
    for tab in tabs:
        assert tab.page.evaluate(SAME_DOCUMENT), f"{tab.page.url} reloaded instead of updating"


def assert_clean(*tabs: Person) -> None:
    """No CSP violations, console errors or dialogs."""
    for tab in tabs:
        assert tab.csp_violations() == [], tab.page.url
        assert tab.console_errors == []
        assert tab.dialogs == []
