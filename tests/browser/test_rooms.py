"""Creating rooms from the sidebar."""

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Person, Server


@pytest.mark.browser
def test_a_new_room_opens_and_appears_in_everyone_s_sidebar(
    person: Callable[..., Person], server: Server
) -> None:
    ada, grace = person("ada"), person("grace")
    ada.open_room("general")
    grace.open_room("general")
    grace.page.evaluate("window.__sameDocument = true")

    ada.page.get_by_label("New room").fill("Launch plans")
    ada.page.get_by_role("button", name="Create").click()

    expect(ada.page).to_have_url(f"{server.base_url}/rooms/launch-plans/")
    expect(ada.page.get_by_role("heading", level=1)).to_have_text("#Launch plans")
    ada_sidebar = ada.page.get_by_role("navigation", name="Rooms")
    expect(ada_sidebar.get_by_role("link", name="Launch plans")).to_have_attribute(
        "aria-current", "page"
    )
    expect(ada.page.locator("#connection-status")).to_have_text("Connected")

    grace_link = grace.page.get_by_role("navigation", name="Rooms").get_by_role(
        "link", name="Launch plans"
    )
    expect(grace_link).to_be_visible()
    assert grace.page.evaluate("window.__sameDocument === true"), "grace's page was reloaded"

    grace_link.click()
    expect(grace.page).to_have_url(f"{server.base_url}/rooms/launch-plans/")


@pytest.mark.browser
def test_a_taken_room_name_is_refused_in_the_sidebar_form(person: Callable[..., Person]) -> None:
    ada = person("ada")
    ada.open_room("general")
    url = ada.page.url
    name = ada.page.get_by_label("New room")

    name.fill("  general ")
    ada.page.get_by_role("button", name="Create").click()

    expect(ada.page.get_by_role("alert").filter(has_text="already exists")).to_be_visible()
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_value("  general ")
    assert ada.page.url == url


@pytest.mark.browser
def test_html_in_a_room_name_is_shown_as_text_in_pages_and_pushes(
    person: Callable[..., Person], server: Server
) -> None:
    ada, grace = person("ada"), person("grace")
    ada.open_room("general")
    grace.open_room("general")
    hostile = "<img src=x onerror=alert(1)><b>Tea</b><script>alert(2)"  # names stop at 60

    ada.page.get_by_label("New room").fill(hostile)
    ada.page.get_by_role("button", name="Create").click()

    expect(ada.page.get_by_role("heading", level=1)).to_have_text(f"#{hostile}")
    # Pushed to grace's open page, then rendered in full when she follows the link.
    grace_link = grace.page.get_by_role("navigation", name="Rooms").get_by_role(
        "link", name=hostile
    )
    expect(grace_link).to_be_visible()
    grace_link.click()
    expect(grace.page.get_by_role("heading", level=1)).to_have_text(f"#{hostile}")
    expect(grace.page).to_have_title(f"#{hostile} · Relay")
    grace.send("hello in the oddly named room")
    expect(ada.page.locator("#messages")).to_contain_text("hello in the oddly named room")
    for someone in (ada, grace):
        expect(someone.page.locator("main img:not([class]), main b, main script")).to_have_count(0)
        assert someone.dialogs == []
        assert someone.console_errors == []
        assert someone.csp_violations() == []
