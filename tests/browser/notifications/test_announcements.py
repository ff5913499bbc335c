"""Announcements as people see them: the banner on every page, dismissing it everywhere, text
shown as text, and a tab catching up on the banner after its socket dropped."""

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Person
from tests.browser.notifications.pages import (
    FRAMES_RECEIVED,
    IS_READ,
    IS_UNREAD,
    RECORD_FRAMES,
    assert_clean,
    assert_same_document,
    banner,
    expect_unread,
    inbox_item,
    inbox_items,
    open_inbox,
    open_page,
    open_tab,
    publish,
    toast,
    unique,
)
from tests.browser.test_reconnect import GO_OFFLINE, RECORD_SOCKETS, REPORT_DROP


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
