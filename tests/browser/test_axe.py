"""Accessibility as a test: axe-core on every main page, on a phone and a desktop, in light and
dark, with no serious or critical violation.

axe-playwright-python (requirements-dev.txt) injects axe-core through the DevTools protocol,
so the page's Content Security Policy does not stand in its way.
"""

from collections.abc import Callable
from typing import Any, Literal

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.conftest import Person

axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

SIZES: dict[str, ViewportSize] = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 800},
}
SCHEMES: list[Literal["light", "dark"]] = ["light", "dark"]
SIGNED_OUT = ["/accounts/login/", "/accounts/signup/"]
SIGNED_IN = [
    "/",
    "/rooms/general/",
    "/rooms/founders/",
    "/notifications/",
    "/search/?q=hello",
    "/stats/",
    "/people/grace/",
    "/no/such/page/",
]
BLOCKING = {"serious", "critical"}


def violations(page: Page) -> list[str]:
    results: Any = axe_playwright.Axe().run(page)
    return [
        f"{page.url} {v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


def settle(page: Page) -> None:
    expect(page.get_by_role("heading", level=1).first).to_be_visible()
    if page.locator("#connection-status").count():
        expect(page.locator("#connection-status")).to_have_text("Connected")


@pytest.mark.browser
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("size", SIZES)
def test_main_pages_have_no_serious_violation(
    person: Callable[..., Person], size: str, scheme: Literal["light", "dark"]
) -> None:
    visitor = person()
    visitor.page.set_viewport_size(SIZES[size])
    visitor.page.emulate_media(color_scheme=scheme)
    found: list[str] = []
    for path in SIGNED_OUT:
        visitor.page.goto(path)
        settle(visitor.page)
        found += violations(visitor.page)

    ada = person("ada")
    ada.page.set_viewport_size(SIZES[size])
    ada.page.emulate_media(color_scheme=scheme)
    for path in SIGNED_IN:
        ada.page.goto(path)
        settle(ada.page)
        found += violations(ada.page)
    if size == "phone":  # the drawer and the account menu, open
        ada.page.goto("/rooms/general/")
        settle(ada.page)
        ada.page.get_by_role("button", name="Rooms and direct messages").click()
        found += violations(ada.page)
        ada.page.keyboard.press("Escape")
        ada.page.get_by_role("button", name="Account menu").click()
        found += violations(ada.page)

    assert found == []
