"""Notifications as people see them: mentions, the unread badge on every tab, the inbox, and a
tab catching up after its socket dropped."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Route, expect

from tests.browser.conftest import Person
from tests.browser.notifications.pages import (
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
