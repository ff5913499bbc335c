"""Signing up, and what an anonymous visitor meets."""

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Person, Server
from tests.servers import DEMO_PASSWORD


@pytest.mark.browser
def test_signing_up_creates_an_account_and_lands_in_the_chat(
    person: Callable[..., Person], server: Server
) -> None:
    newcomer = person()
    page = newcomer.page
    page.goto("/accounts/signup/")

    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Password", exact=True).fill("a-long-enough-pass-phrase-42")
    page.get_by_label("Password confirmation").fill("a-long-enough-pass-phrase-42")
    page.get_by_role("button", name="Create account").click()

    expect(page).to_have_url(f"{server.base_url}/")
    expect(page.get_by_role("heading", name="Welcome, newcomer")).to_be_visible()
    expect(page.get_by_text("Signed in as newcomer")).to_be_visible()
    expect(page.locator("#connection-status")).to_have_text("Connected")
    page.get_by_role("link", name="#General").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("#General")


@pytest.mark.browser
def test_an_anonymous_visit_to_a_room_asks_to_sign_in_and_returns_there(
    person: Callable[..., Person], server: Server
) -> None:
    visitor = person()
    page = visitor.page

    page.goto("/rooms/general/")

    expect(page).to_have_url(f"{server.base_url}/accounts/login/?next=/rooms/general/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#connection-status")).to_have_count(0)

    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{server.base_url}/rooms/general/")
    expect(page.locator("#connection-status")).to_have_text("Connected")


@pytest.mark.browser
def test_signing_out_in_one_tab_sends_the_others_to_sign_in(
    person: Callable[..., Person], server: Server
) -> None:
    ada = person("ada")
    ada.open_room("general")
    other_tab = ada.page.context.new_page()
    other_tab.goto("/rooms/general/")
    expect(other_tab.locator("#connection-status")).to_have_text("Connected")
    grace = person("grace")
    grace.open_room("general")

    other_tab.get_by_role("button", name="Sign out").click()

    expect(ada.page).to_have_url(f"{server.base_url}/accounts/login/?next=%2Frooms%2Fgeneral%2F")
    expect(ada.page.get_by_role("heading", name="Sign in")).to_be_visible()
    # Someone else's session is not touched.
    expect(grace.page.locator("#connection-status")).to_have_text("Connected")
    assert grace.page.url == f"{server.base_url}/rooms/general/"
    assert ada.console_errors == grace.console_errors == []


@pytest.mark.browser
def test_a_password_change_keeps_the_tabs_of_the_session_that_made_it(
    person: Callable[..., Person], server: Server
) -> None:
    newcomer = person()
    page = newcomer.page
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill("changer")
    page.get_by_label("Password", exact=True).fill("a-long-enough-pass-phrase-42")
    page.get_by_label("Password confirmation").fill("a-long-enough-pass-phrase-42")
    page.get_by_role("button", name="Create account").click()
    newcomer.open_room("general")
    elsewhere = person()
    elsewhere.sign_in("changer", "a-long-enough-pass-phrase-42")
    elsewhere.open_room("general")

    changing = page.context.new_page()
    changing.goto("/accounts/password_change/")
    # Django's own form (the admin's template): its labels end with a colon.
    changing.get_by_label("Old password:").fill("a-long-enough-pass-phrase-42")
    changing.get_by_label("New password:", exact=True).fill("another-long-pass-phrase-43")
    changing.get_by_label("New password confirmation:").fill("another-long-pass-phrase-43")
    changing.get_by_role("button", name="Change my password").click()

    # The other browser's session is over; this browser's session was renewed, and its tab
    # stays where it is, connected.
    expect(elsewhere.page).to_have_url(
        f"{server.base_url}/accounts/login/?next=%2Frooms%2Fgeneral%2F"
    )
    expect(page).to_have_url(f"{server.base_url}/rooms/general/")
    expect(page.locator("#connection-status")).to_have_text("Connected")
