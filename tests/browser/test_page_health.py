"""Every page loads without console errors and without Content Security Policy violations.

Chromium reports a malformed policy and every blocked script, style or connection as a console
error; the page also records `securitypolicyviolation` events (see conftest).
"""

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Person

# Chromium logs every 4xx response as an error, including the deliberate 422 that carries a
# refused form back to be swapped in.
FORM_REFUSED = "Failed to load resource: the server responded with a status of 422"


def assert_clean(someone: Person, *, forms_refused: int = 0) -> None:
    assert someone.csp_violations() == []
    refusals = [text for text in someone.console_errors if FORM_REFUSED in text]
    assert len(refusals) == forms_refused
    assert [text for text in someone.console_errors if FORM_REFUSED not in text] == []


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/"])
def test_anonymous_pages_are_clean(person: Callable[..., Person], path: str) -> None:
    visitor = person()

    visitor.page.goto(path)

    expect(visitor.page.get_by_role("heading", level=1)).to_be_visible()
    assert_clean(visitor)


@pytest.mark.browser
def test_the_lobby_is_clean(person: Callable[..., Person]) -> None:
    ada = person("ada")
    assert_clean(ada)  # the sign-in page and the redirect to the lobby

    ada.page.goto("/")

    expect(ada.page.locator("#connection-status")).to_have_text("Connected")
    assert_clean(ada)


@pytest.mark.browser
def test_a_room_stays_clean_while_it_is_used(person: Callable[..., Person]) -> None:
    ada = person("ada")
    ada.open_room("general")

    ada.send("Checking the console stays quiet.")
    expect(
        ada.page.locator("#messages .message").filter(has_text="Checking the console")
    ).to_have_count(1)
    ada.send("   ")
    expect(ada.page.locator("#composer-error")).to_have_text("Type a message first.")
    ada.page.get_by_label("New room").fill("general")
    ada.page.get_by_role("button", name="Create").click()
    expect(ada.page.locator("#room-form-error")).to_be_visible()

    assert_clean(ada, forms_refused=1)
