"""A phone-sized window: nothing wider than the screen, the rooms in a drawer, the account
menu and the bell reachable, the composer and the newest message in view. A wide window keeps
its sidebar."""

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.conftest import Person

PHONES: list[ViewportSize] = [{"width": 390, "height": 844}, {"width": 360, "height": 740}]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
# A phone as its browser says it is: a touch screen that cannot hover, not only a narrow window.
TOUCH_PHONE: dict[str, Any] = {"viewport": PHONES[0], "has_touch": True, "is_mobile": True}


def sideways_overflow(page: Page) -> int:
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def inside_window(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None
    assert size is not None
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"]
        and box["y"] + box["height"] <= size["height"]
    )


@pytest.mark.browser
@pytest.mark.parametrize("size", PHONES, ids=["390", "360"])
def test_a_room_fits_a_phone(person: Callable[..., Person], size: ViewportSize) -> None:
    ada = person("ada")
    ada.page.set_viewport_size(size)
    ada.open_room("general")
    ada.send("Fits on a phone?")
    newest = ada.page.locator("#messages .message").filter(has_text="Fits on a phone?")
    expect(newest).to_have_count(1)

    assert sideways_overflow(ada.page) == 0
    controls = ("#bell", ".account-button", ".drawer-button", "#composer button", "#composer-body")
    for control in controls:
        assert inside_window(ada.page, control), control
    expect(newest).to_be_in_viewport(ratio=1)
    expect(ada.page.locator("#sidebar")).to_be_hidden()


def read_every_room(person: Person) -> None:
    """Open each room and conversation with unread messages (seed data, earlier tests), so
    that what arrives next is all that is unread."""
    person.page.goto("/")
    unread = person.page.locator("#sidebar .room-list a:has(.unread:not([hidden]))")
    for href in [unread.nth(n).get_attribute("href") for n in range(unread.count())]:
        person.page.goto(href or "/")
        expect(person.page.locator("#connection-status")).to_have_text("Connected")
        # The read is reported over the socket; the room's badge clears once it is saved.
        person.page.goto("/")
        expect(person.page.locator(f'#sidebar .room-list a[href="{href}"] .unread')).to_be_hidden()


@pytest.mark.browser
def test_the_drawer_shows_the_rooms_and_an_unread_dot(person: Callable[..., Person]) -> None:
    ada = person("ada")
    grace = person("grace")
    read_every_room(ada)  # at the default, desktop size: the sidebar shows the badges
    ada.page.set_viewport_size(PHONES[0])
    ada.open_room("random")  # read up to now: what comes next there is unread
    ada.open_room("general")
    dot = ada.page.locator(".drawer-dot")
    expect(dot).to_be_hidden()

    grace.open_room("random")
    grace.send("Something new in random")

    expect(dot).to_be_visible()
    ada.page.get_by_role("button", name="Rooms and direct messages").click()
    drawer = ada.page.locator("#sidebar")
    expect(drawer).to_be_visible()
    random = drawer.locator("#room-list a").filter(has_text="Random")
    # What shows (the badge also holds a hidden "@mentioned" mark).
    expect(random.locator(".unread")).to_have_text("1 unread", use_inner_text=True)
    assert sideways_overflow(ada.page) == 0
    ada.page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    ada.page.get_by_role("button", name="Rooms and direct messages").click()
    drawer.get_by_role("link", name="Random").click()
    expect(ada.page.get_by_role("heading", name="#Random")).to_be_visible()
    expect(ada.page.get_by_text("Something new in random")).to_be_in_viewport()
    expect(ada.page.locator("#sidebar")).to_be_hidden()


@pytest.mark.browser
def test_the_account_menu_opens_on_a_phone(person: Callable[..., Person]) -> None:
    ada = person("ada")
    ada.page.set_viewport_size(PHONES[0])
    ada.page.goto("/")
    sign_out = ada.page.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_hidden()

    ada.page.get_by_role("button", name="Account menu").click()

    expect(ada.page.get_by_text("Signed in as ada")).to_be_visible()
    assert inside_window(ada.page, "#account-menu")
    sign_out.click()
    expect(ada.page.get_by_role("heading", name="Sign in")).to_be_visible()


@pytest.mark.browser
def test_a_wide_window_keeps_its_sidebar_and_account_links(person: Callable[..., Person]) -> None:
    ada = person("ada")
    ada.page.set_viewport_size(DESKTOP)
    ada.open_room("general")

    expect(ada.page.locator("#sidebar")).to_be_visible()
    expect(ada.page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(ada.page.locator(".drawer-button")).to_be_hidden()
    expect(ada.page.locator(".account-button")).to_be_hidden()
    assert sideways_overflow(ada.page) == 0


@pytest.mark.browser
@pytest.mark.parametrize("size", [PHONES[0], DESKTOP], ids=["phone", "desktop"])
def test_a_long_room_name_stays_inside_the_sidebar(
    person: Callable[..., Person], size: ViewportSize
) -> None:
    ada = person("ada")
    ada.page.set_viewport_size(size)
    ada.page.goto("/")
    name = f"A room whose name goes on and on and on {size['width']}"
    if size["width"] < 720:
        ada.page.get_by_role("button", name="Rooms and direct messages").click()
    ada.page.get_by_label("New room").fill(name)
    ada.page.get_by_role("button", name="Create").click()
    expect(ada.page.get_by_role("heading", name=f"#{name}")).to_be_visible()
    if size["width"] < 720:
        ada.page.get_by_role("button", name="Rooms and direct messages").click()

    link = ada.page.locator("#sidebar #room-list a").filter(has_text=name)
    expect(link).to_be_visible()
    assert link.evaluate("a => a.scrollWidth <= a.clientWidth")
    assert ada.page.locator("#sidebar").evaluate("s => s.scrollWidth <= s.clientWidth")
    assert sideways_overflow(ada.page) == 0


@pytest.mark.browser
def test_the_drawer_works_with_the_keyboard_alone(person: Callable[..., Person]) -> None:
    ada = person("ada")
    ada.page.set_viewport_size(PHONES[0])
    ada.open_room("general")
    button = ada.page.get_by_role("button", name="Rooms and direct messages")
    drawer = ada.page.locator("#sidebar")

    ada.page.keyboard.press("Tab")  # the skip link
    ada.page.keyboard.press("Tab")
    expect(button).to_be_focused()
    ada.page.keyboard.press("Enter")
    expect(drawer).to_be_visible()
    ada.page.keyboard.press("Tab")  # into the drawer, which follows its button
    expect(ada.page.get_by_role("searchbox", name="Search messages")).to_be_focused()
    ada.page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(button).to_be_focused()
