"""Live counters, presence and typing, as two people see them."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Person

TYPING_GONE_MS = 10_000  # CHAT_TYPING_SHOW is 6 s by default


def views(page: Page) -> int:
    return int(page.locator("#page-views").inner_text().split()[0].replace(",", ""))


def wait_for_more_views(page: Page, than: int) -> None:
    page.wait_for_function(
        "n => parseInt(document.getElementById('page-views').textContent.replace(/,/g, '')) > n",
        arg=than,
    )


@pytest.mark.browser
def test_counters_presence_and_typing_update_live(person: Callable[..., Person]) -> None:
    ada, grace = person("ada"), person("grace")
    ada.open_room("general")
    here_now = ada.page.locator("#here-now")
    present = ada.page.locator("#room-presence li")
    expect(here_now).to_have_text("1 here now")
    expect(present).to_have_text(["ada"])
    before = views(ada.page)

    grace.open_room("general")

    expect(here_now).to_have_text("2 here now")
    expect(present).to_have_text(["ada", "grace"])
    expect(grace.page.locator("#room-presence li")).to_have_text(["ada", "grace"])
    wait_for_more_views(ada.page, before)  # grace's view, pushed by the worker

    # Typing shows for the others, never for the typist, and goes when the message arrives.
    grace.composer().press_sequentially("hello")
    typing = ada.page.locator("#typing .typing")
    expect(typing).to_have_text(["grace is typing…"])
    expect(grace.page.locator("#typing .typing")).to_have_count(0)
    grace.composer().press("Enter")
    expect(ada.page.locator("#messages .message").last).to_contain_text("hello")
    expect(typing).to_have_count(0)

    # Unrenewed, it goes by itself. (Typed slowly enough to outlast the 2 s throttles.)
    grace.composer().press_sequentially("still here", delay=300)
    expect(typing).to_have_text(["grace is typing…"])
    expect(typing).to_have_count(0, timeout=TYPING_GONE_MS)

    grace.page.close()
    expect(here_now).to_have_text("1 here now")
    expect(present).to_have_text(["ada"])
    assert ada.console_errors == []
    assert ada.csp_violations() == []


@pytest.mark.browser
def test_the_stats_page_follows_the_site_live(person: Callable[..., Person]) -> None:
    ada = person("ada")
    ada.page.goto("/stats/")
    expect(ada.page.locator("#connection-status")).to_have_text("Connected")
    expect(ada.page.get_by_role("heading", name="Live stats")).to_be_visible()
    connections = ada.page.locator("#stat-connections")
    expect(connections).to_have_text("1")
    expect(ada.page.locator(".chart svg")).to_be_visible()

    grace = person("grace")
    grace.open_room("general")

    expect(connections).to_have_text("2")
    expect(ada.page.locator("#stat-people")).to_have_text("2")
    expect(ada.page.locator(".top-pages")).to_contain_text("/rooms/general/")
    expect(ada.page.locator("#here-now")).to_have_text(re.compile(r"^1 here now$"))
    assert ada.console_errors == []
    assert ada.csp_violations() == []
