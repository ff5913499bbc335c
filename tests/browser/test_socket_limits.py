"""A person who opens more tabs than the server allows is told why, in the page."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import TIMEOUT_MS, Person, demo_site


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_site(tmp_path_factory.mktemp("limits"), SOCKETS_PER_USER="1") as site:
        yield site.base_url


@pytest.mark.browser
def test_a_tab_over_the_cap_says_why_and_works_once_another_closes(
    browser: Browser, base_url: str
) -> None:
    context = browser.new_context(base_url=base_url)
    context.set_default_timeout(TIMEOUT_MS)
    first = Person(page=context.new_page())
    first.sign_in("ada")
    first.open_room("general")

    second = Person(page=context.new_page())
    second.page.goto("/rooms/general/")
    expect(second.page.locator("#socket-error")).to_have_text(
        "Relay is open in too many tabs. Close one, then reload this page."
    )
    expect(second.page.locator("#connection-status")).to_have_text("Disconnected — reload the page")
    expect(first.page.locator("#connection-status")).to_have_text("Connected")

    first.page.close()
    # The server counts the closed tab out as soon as it hears of it; reload until then.
    badge = second.page.locator("#connection-status")
    for _ in range(10):
        second.page.reload()
        expect(badge).not_to_have_text("Connecting…")
        if badge.inner_text() == "Connected":
            break
    expect(badge).to_have_text("Connected")
    expect(second.page.locator("#socket-error")).to_be_empty()
    context.close()
