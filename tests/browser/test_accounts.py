"""Signing up, and what an anonymous visitor meets."""

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD, Person, Server


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
