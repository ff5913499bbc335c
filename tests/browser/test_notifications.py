"""Notifications as people see them: mentions, the unread badge on every tab, the inbox,
announcements, and a tab catching up after its socket dropped.

The server's database lasts the whole session, so each test starts with everything read and
finds what it created by a unique token.
"""

import re
import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, Locator, Route, expect

from tests.browser.conftest import DEMO_PASSWORD, Person, Server
from tests.browser.test_reconnect import GO_OFFLINE, RECORD_SOCKETS, REPORT_DROP

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

STAFF = "herald"
MAKE_STAFF = f"""
from django.contrib.auth import get_user_model

staff, _ = get_user_model().objects.get_or_create(username="{STAFF}")
staff.is_staff = True
staff.set_password("{DEMO_PASSWORD}")
staff.save()
"""
MARK_EVERYTHING_READ = """
from django.utils import timezone
from notifications.models import Notification

Notification.objects.filter(read_at__isnull=True).update(read_at=timezone.now())
"""

IS_UNREAD = re.compile(r"\bis-unread\b")
IS_READ = re.compile(r"\bis-read\b")


# A known bug (see test_a_response_that_arrives_after_the_push_swaps_cleanly): when "Mark read"
# or "Dismiss" is answered after the push has replaced the button that was clicked, htmx finds
# no target for the response's out-of-band fragments and logs this. The page ends up right.
@pytest.fixture(scope="module", autouse=True)
def _leave_nothing_unread(server: Server) -> Iterator[None]:
    # Announcements reach everyone: later tests elsewhere must not find a banner on every page.
    yield
    server.manage("shell", "-c", MARK_EVERYTHING_READ)


@pytest.fixture(autouse=True)
def _start_with_everything_read(server: Server) -> None:
    server.manage("shell", "-c", MARK_EVERYTHING_READ)


@pytest.fixture(scope="module")
def staff(server: Server) -> str:
    server.manage("shell", "-c", MAKE_STAFF)
    return STAFF


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


@pytest.mark.browser
def test_a_mention_reaches_every_tab_and_mark_all_read_clears_them_all(
    person: Callable[..., Person],
) -> None:
    grace_room = person("grace")
    grace_inbox = open_tab(grace_room)
    open_page(grace_room, "/rooms/general/")
    open_inbox(grace_inbox)
    expect_unread(grace_room, 0)
    ada = person("ada")
    ada.open_room("general")
    token = unique()

    ada.send(f"hi @grace, {token}")

    for tab in (grace_room, grace_inbox):
        expect_unread(tab, 1)
    pushed = toast(grace_room, token)
    expect(pushed).to_be_visible()
    expect(pushed).to_contain_text("ada mentioned you in #General")
    expect(pushed.locator(".excerpt")).to_have_text(f"hi @grace, {token}")
    expect(pushed.get_by_role("link", name="#General")).to_have_attribute(
        "href", re.compile(r"^/rooms/general/")
    )
    newest = inbox_items(grace_inbox).first
    expect(newest).to_contain_text("ada mentioned you in #General")
    expect(newest.locator(".excerpt")).to_have_text(f"hi @grace, {token}")
    expect(newest).to_have_class(IS_UNREAD)
    # The author is not notified of her own mention.
    expect(ada.page.locator("#toasts .toast")).to_have_count(0)
    expect_unread(ada, 0)

    grace_inbox.page.get_by_role("button", name="Mark all read").click()

    for tab in (grace_inbox, grace_room):
        expect_unread(tab, 0)
    expect(inbox_item(grace_inbox, token)).to_have_class(IS_READ)
    expect(inbox_item(grace_inbox, token).get_by_role("button", name="Mark read")).to_have_count(0)
    assert_same_document(grace_room, grace_inbox)
    assert_clean(grace_room, grace_inbox, ada)


@pytest.mark.browser
def test_marking_one_read_updates_it_and_the_badge_on_the_other_tab(
    person: Callable[..., Person],
) -> None:
    grace_lobby = person("grace")
    grace_inbox = open_tab(grace_lobby)
    open_page(grace_lobby, "/")
    open_inbox(grace_inbox)
    ada = person("ada")
    ada.open_room("random")
    token = unique()

    ada.send(f"@grace first {token}")
    expect_unread(grace_inbox, 1)
    ada.send(f"@grace second {token}")
    for tab in (grace_lobby, grace_inbox):
        expect_unread(tab, 2)
    first, second = (
        inbox_item(grace_inbox, f"first {token}"),
        inbox_item(grace_inbox, f"second {token}"),
    )
    expect(inbox_item(grace_inbox, token)).to_have_count(2)
    expect(inbox_items(grace_inbox).first).to_contain_text(f"second {token}")  # newest on top

    first.get_by_role("button", name="Mark read").click()

    expect(first).to_have_class(IS_READ)
    expect(first.get_by_role("button", name="Mark read")).to_have_count(0)
    expect(second).to_have_class(IS_UNREAD)
    for tab in (grace_lobby, grace_inbox):
        expect_unread(tab, 1)
    expect(inbox_item(grace_inbox, token)).to_have_count(2)
    assert_same_document(grace_lobby, grace_inbox)
    assert_clean(grace_lobby, grace_inbox, ada)


@pytest.mark.browser
def test_an_announcement_shows_everywhere_but_to_its_author_and_dismissing_it_is_shared(
    person: Callable[..., Person], staff: str
) -> None:
    author_inbox = person(staff)
    author_desk = open_tab(author_inbox)
    open_inbox(author_inbox)
    author_inbox.page.evaluate(RECORD_FRAMES)
    grace_room = person("grace")
    grace_inbox = open_tab(grace_room)
    open_page(grace_room, "/rooms/general/")
    open_inbox(grace_inbox)
    token = unique()
    text = f"Maintenance tonight at 22:00, {token}"

    publish(author_desk, text)

    for tab in (grace_room, grace_inbox):
        expect(banner(tab)).to_be_visible()
        expect(banner(tab).locator(".banner-body")).to_have_text(text)
        expect_unread(tab, 1)
    announced = inbox_items(grace_inbox).first
    expect(announced).to_contain_text(f"{staff} announced")
    expect(announced.locator(".excerpt")).to_have_text(text)
    expect(announced).to_have_class(IS_UNREAD)
    # The author's other tab received the same two pushes (banner, list item) and showed neither.
    author_inbox.page.wait_for_function(FRAMES_RECEIVED, arg=[token, 2])
    expect(banner(author_inbox)).to_be_hidden()
    expect(inbox_item(author_inbox, token)).to_have_count(0)
    expect_unread(author_inbox, 0)
    expect(banner(author_desk)).to_be_hidden()  # the page shown after publishing

    banner(grace_room).get_by_role("button", name="Dismiss").click()

    for tab in (grace_room, grace_inbox):
        expect(banner(tab)).to_be_hidden()
        expect_unread(tab, 0)
    expect(inbox_item(grace_inbox, token)).to_have_class(IS_READ)
    assert_same_document(grace_room, grace_inbox, author_inbox)
    assert_clean(grace_room, grace_inbox, author_inbox, author_desk)


@pytest.mark.browser
def test_a_tab_that_was_offline_catches_up_without_duplicates(
    person: Callable[..., Person],
) -> None:
    grace = person("grace")
    grace.page.add_init_script(RECORD_SOCKETS)
    open_inbox(grace)
    ada = person("ada")
    ada.open_room("general")
    token = unique()
    ada.send(f"@grace before the drop {token}")
    expect_unread(grace, 1)
    expect(inbox_item(grace, token)).to_have_count(1)

    grace.page.evaluate(GO_OFFLINE)
    for n in (1, 2):
        ada.send(f"@grace while you were away {n} {token}")
        expect(ada.page.locator("#messages")).to_contain_text(f"while you were away {n} {token}")
    expect_unread(grace, 1)  # really offline: nothing arrived
    grace.page.evaluate(REPORT_DROP)

    expect(grace.page.locator("#connection-status")).to_have_text("Connected")
    expect_unread(grace, 3)
    expect(inbox_item(grace, token)).to_have_count(3)
    for text in ("before the drop", "while you were away 1", "while you were away 2"):
        expect(inbox_item(grace, f"{text} {token}")).to_have_count(1)
    # The toasts of what was missed are shown once each, newest on top.
    toasts = grace.page.locator("#toasts .toast").filter(has_text="while you were away")
    expect(toasts).to_have_count(2)
    expect(toasts.nth(0)).to_contain_text(f"while you were away 2 {token}")
    expect(toasts.nth(1)).to_contain_text(f"while you were away 1 {token}")
    ids = grace.page.locator("[id]").evaluate_all("(elements) => elements.map((el) => el.id)")
    assert len(ids) == len(set(ids)), "the catch-up duplicated elements"
    assert_same_document(grace)
    assert_clean(grace, ada)


@pytest.mark.browser
def test_html_in_an_announcement_and_in_a_mention_is_shown_as_text(
    person: Callable[..., Person], staff: str
) -> None:
    author = person(staff)
    grace_room = person("grace")
    grace_inbox = open_tab(grace_room)
    open_page(grace_room, "/rooms/general/")
    open_inbox(grace_inbox)
    ada = person("ada")
    ada.open_room("general")
    token = unique()
    announcement = f"<img src=x onerror=alert(1)> <script>alert(2)</script> <b>{token}</b>"
    mention = f"@grace <img src=x onerror=alert(3)> <i>look</i> {token}"

    publish(author, announcement)
    ada.send(mention)

    expect_unread(grace_room, 2)
    body = banner(grace_room).locator(".banner-body")
    expect(body).to_have_text(announcement)
    pushed = toast(grace_room, token).locator(".excerpt")
    expect(pushed).to_have_text(mention)
    excerpts = inbox_items(grace_inbox).locator(".excerpt")
    expect(excerpts.nth(0)).to_have_text(mention)
    expect(excerpts.nth(1)).to_have_text(announcement)
    for tab in (grace_room, grace_inbox):
        expect(tab.page.locator("#flash img, #flash script, #flash i")).to_have_count(0)
        expect(tab.page.locator("#announcement-banner :is(img, script, b)")).to_have_count(0)
        expect(tab.page.locator("#notification-items :is(img, script, b, i)")).to_have_count(0)

    # The same, rendered into a fresh page by the server.
    grace_inbox.page.reload()
    expect(banner(grace_inbox).locator(".banner-body")).to_have_text(announcement)
    expect(excerpts.nth(0)).to_have_text(mention)
    expect(excerpts.nth(1)).to_have_text(announcement)
    expect(grace_inbox.page.locator("#main :is(img, script, b, i)")).to_have_count(0)
    assert_clean(grace_room, grace_inbox, ada, author)


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["mention", "announcement"])
def test_a_response_that_arrives_after_the_push_swaps_cleanly(
    person: Callable[..., Person], staff: str, kind: str
) -> None:
    grace = person("grace")
    open_inbox(grace)
    token = unique()
    if kind == "mention":
        ada = person("ada")
        ada.open_room("general")
        ada.send(f"@grace {token}")
        button = inbox_item(grace, token).get_by_role("button", name="Mark read")
    else:
        publish(person(staff), f"Announcement {token}")
        button = banner(grace).get_by_role("button", name="Dismiss")
    expect_unread(grace, 1)
    grace.page.evaluate(RECORD_FRAMES)

    def answer_after_the_push(route: Route) -> None:
        # The server sends the push before it answers, and the push is nearly always swapped
        # first; waiting for it here makes that order certain.
        response = route.fetch()
        grace.page.wait_for_function("window.__frames.length >= 2")  # the badge, the list
        route.fulfill(response=response)

    marking_read = re.compile(r"/notifications/.*/(read|dismiss)/$")
    grace.page.route(marking_read, answer_after_the_push)
    with grace.page.expect_response(marking_read):
        button.click()

    expect_unread(grace, 0)
    expect(inbox_item(grace, token)).to_have_class(IS_READ)
    expect(banner(grace)).to_be_hidden()
    grace.page.evaluate("new Promise((resolve) => setTimeout(resolve, 200))")  # its swap
    assert_clean(grace)


@pytest.mark.browser
def test_a_toast_leaves_the_banners_dismiss_button_uncovered(
    person: Callable[..., Person], staff: str
) -> None:
    grace = person("grace")
    open_page(grace, "/rooms/general/")
    publish(person(staff), f"Coffee in the kitchen, {unique()}")
    dismiss = banner(grace).get_by_role("button", name="Dismiss")
    expect(dismiss).to_be_visible()
    ada = person("ada")
    ada.open_room("general")
    token = unique()

    ada.send(f"@grace are you coming? {token}")

    shown = toast(grace, token)
    expect(shown).to_be_visible()
    shown.evaluate("(el) => Promise.all(el.getAnimations().map((a) => a.finished))")
    button, covering = dismiss.bounding_box(), shown.bounding_box()
    assert button is not None
    assert covering is not None
    overlaps = (
        covering["x"] < button["x"] + button["width"]
        and button["x"] < covering["x"] + covering["width"]
        and covering["y"] < button["y"] + button["height"]
        and button["y"] < covering["y"] + covering["height"]
    )
    assert not overlaps, f"the toast {covering} covers the Dismiss button {button}"


@pytest.mark.browser
@pytest.mark.parametrize("meanwhile", ["published", "dismissed elsewhere"])
def test_a_tab_that_was_offline_catches_up_on_the_banner(
    person: Callable[..., Person], staff: str, meanwhile: str
) -> None:
    author = person(staff)
    grace = person("grace")
    grace.page.add_init_script(RECORD_SOCKETS)
    text = f"Deploy at noon, {unique()}"
    shown_before = meanwhile == "dismissed elsewhere"
    if shown_before:
        publish(author, text)
    open_page(grace, "/rooms/general/")
    expect(banner(grace)).to_be_visible(visible=shown_before)

    grace.page.evaluate(GO_OFFLINE)
    if shown_before:
        elsewhere = open_tab(grace)
        open_page(elsewhere, "/rooms/random/")
        banner(elsewhere).get_by_role("button", name="Dismiss").click()
        expect(banner(elsewhere)).to_be_hidden()
    else:
        publish(author, text)
    grace.page.evaluate(REPORT_DROP)

    expect(grace.page.locator("#connection-status")).to_have_text("Connected")
    expect_unread(grace, 0 if shown_before else 1)
    # The catch-up has arrived, in one frame: the banner is as it will stay.
    expect(banner(grace)).to_be_visible(visible=not shown_before, timeout=1_000)
    if not shown_before:
        expect(banner(grace).locator(".banner-body")).to_have_text(text)
