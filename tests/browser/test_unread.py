"""Unread counts, the new-messages divider, history as you scroll, and search, as people
see them.

The server's database lasts the whole session, so each test makes rooms of its own, named
with a unique token.
"""

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, expect

from tests.browser.conftest import Person, Server
from tests.browser.notifications.pages import open_page, open_tab

# Runs in `manage.py shell`: a room with `count` messages by linus, the word "needle" only in
# message number `needle_at` (1-based), and ada's read cursor after message `read_up_to`.
SEED_ROOM = """
from django.contrib.auth import get_user_model
from chat.models import Message, ReadCursor, Room

users = {{user.username: user for user in get_user_model().objects.all()}}
room = Room.objects.create(name="{name}", slug="{slug}")
Message.objects.bulk_create(
    Message(
        room=room,
        author=users["linus"],
        body=f"Note {{n:03}}" + (" with the needle in it" if n == {needle_at} else ""),
    )
    for n in range(1, {count} + 1)
)
if {read_up_to}:
    read = Message.objects.filter(room=room).order_by("id")[{read_up_to} - 1]
    ReadCursor.objects.create(user=users["ada"], room=room, last_read_id=read.id)
"""


def seed_room(
    server: Server, *, count: int, needle_at: int = 0, read_up_to: int = 0
) -> tuple[str, str]:
    token = uuid.uuid4().hex[:8]
    name, slug = f"Seeded {token}", f"seeded-{token}"
    server.manage(
        "shell",
        "-c",
        SEED_ROOM.format(
            name=name, slug=slug, count=count, needle_at=needle_at, read_up_to=read_up_to
        ),
    )
    return name, slug


def badge(someone: Person, room_name: str) -> Locator:
    return someone.page.locator("#room-list li", has_text=room_name).locator(".unread")


def room_id(someone: Person, room_name: str) -> str:
    link = someone.page.locator("#room-list li", has_text=room_name)
    return (link.get_attribute("id") or "").removeprefix("room-link-")


# Chromium logs every 4xx response as an error, also a refusal the test asks for.
REFUSED = "Failed to load resource: the server responded with a status of 422"


def healthy(*people: Person, refusals: int = 0) -> None:
    for someone in people:
        assert someone.csp_violations() == [], someone.page.url
        refused = [text for text in someone.console_errors if REFUSED in text]
        assert len(refused) == refusals
        assert [text for text in someone.console_errors if REFUSED not in text] == []


@pytest.mark.browser
def test_unread_counts_rise_live_and_reading_clears_them_in_every_tab(
    person: Callable[..., Person], server: Server
) -> None:
    name, slug = seed_room(server, count=2, read_up_to=2)
    ada, grace = person("ada"), person("grace")
    open_page(ada, "/")  # the room list, no room open
    other_tab = open_tab(ada)
    other_tab.open_room("random")
    expect(badge(ada, name)).to_be_hidden()

    grace.open_room(slug)
    grace.send("First one you have not read")
    grace.send("And a second")

    for tab in (ada, other_tab):
        expect(badge(tab, name)).to_be_visible()
        expect(badge(tab, name)).to_contain_text("2")
        expect(badge(tab, name)).to_have_attribute("data-count", "2")
    # grace's own messages are not unread for her.
    expect(badge(grace, name)).to_be_hidden()

    # ada opens the room in the second tab: it shows where the new messages start ...
    other_tab.open_room(slug)
    divider = other_tab.page.locator("#unread-divider")
    expect(divider).to_be_visible()
    expect(divider.locator("+ .message .body")).to_have_text("First one you have not read")
    expect(other_tab.page.locator(".unread-bar")).to_contain_text("2 new messages")
    # ... and reading it there clears the count in the first tab, without a reload.
    expect(badge(ada, name)).to_be_hidden()
    expect(badge(ada, name)).to_have_attribute("data-count", "0")
    expect(badge(other_tab, name)).to_be_hidden()

    # A message while ada has the room open and in view is read as it arrives: her other
    # tab hears that her cursor moved past it.
    grace.send("A third, read as it arrives")
    arrived = other_tab.page.locator("#messages .message")
    expect(arrived).to_have_count(1)
    third = (arrived.get_attribute("id") or "").removeprefix("message-")
    expect(badge(ada, name)).to_have_attribute("data-read", third)
    expect(badge(ada, name)).to_be_hidden()
    healthy(ada, other_tab, grace)


@pytest.mark.browser
def test_scrolling_up_loads_older_messages_and_keeps_the_place(
    person: Callable[..., Person], server: Server
) -> None:
    _, slug = seed_room(server, count=120, read_up_to=120)
    ada = person("ada")
    ada.open_room(slug)
    bodies = ada.page.locator("#history .message .body")
    expect(bodies).to_have_count(50)
    expect(bodies.first).to_have_text("Note 071")

    # Scroll to the top: the next page loads by itself, and "Note 071" stays in view
    # rather than jumping away.
    ada.page.locator("#scroller").evaluate("el => { el.scrollTop = 0; }")
    expect(bodies).to_have_count(100)
    expect(bodies.first).to_have_text("Note 021")
    expect(ada.page.get_by_text("Note 071", exact=True)).to_be_in_viewport()
    expect(ada.page.get_by_text("Note 021", exact=True)).not_to_be_in_viewport()

    ada.page.locator("#scroller").evaluate("el => { el.scrollTop = 0; }")
    expect(bodies).to_have_count(120)
    expect(ada.page.get_by_text(f"This is the beginning of #Seeded {slug[7:]}.")).to_be_visible()
    healthy(ada)


@pytest.mark.browser
def test_jump_to_the_first_unread_when_it_is_pages_back(
    person: Callable[..., Person], server: Server
) -> None:
    _, slug = seed_room(server, count=150, read_up_to=20)
    ada = person("ada")
    ada.open_room(slug)
    bar = ada.page.locator(".unread-bar")
    expect(bar).to_contain_text("130 new messages since you last read")
    expect(ada.page.locator("#unread-divider")).to_have_count(0)  # not on this page

    bar.get_by_role("link", name="Jump to first unread").click()

    expect(ada.page.locator("#connection-status")).to_have_text("Connected")
    divider = ada.page.locator("#unread-divider")
    expect(divider).to_be_in_viewport()
    expect(divider.locator("+ .message .body")).to_have_text("Note 021")
    expect(ada.page.locator(".message.is-anchor .body")).to_have_text("Note 021")
    healthy(ada)


@pytest.mark.browser
def test_search_result_opens_the_message_in_context(
    person: Callable[..., Person], server: Server
) -> None:
    name, _ = seed_room(server, count=120, needle_at=10, read_up_to=120)
    ada = person("ada")
    open_page(ada, "/")
    box = ada.page.get_by_role("searchbox", name="Search messages")
    box.fill("needle")
    box.press("Enter")

    expect(ada.page).to_have_url(re.compile(r"/search/\?q=needle$"))
    hit = ada.page.locator(".search-hit", has_text="Note 010")
    expect(hit).to_have_count(1)
    expect(hit.locator("mark")).to_have_text("needle")
    expect(hit.locator(".hit-room")).to_have_text(f"#{name}")

    # Typing updates the results in place (once htmx is listening: the socket is up).
    expect(ada.page.locator("#connection-status")).to_have_text("Connected")
    ada.page.evaluate("window.__sameDocument = true")
    box.fill("needle 010")
    expect(ada.page).to_have_url(re.compile(r"/search/\?q=needle(\+|%20)010$"), timeout=10_000)
    expect(ada.page.locator(".search-hit")).to_have_count(1)
    expect(ada.page.locator(".search-hit mark")).to_have_text(["010", "needle"])
    box.fill("")
    expect(ada.page.get_by_role("alert")).to_have_text("Type something to search for.")
    box.fill("needle")
    expect(hit).to_have_count(1)
    assert ada.page.evaluate("window.__sameDocument === true")

    hit.get_by_role("link").click()

    expect(ada.page.locator("#connection-status")).to_have_text("Connected")
    anchor = ada.page.locator(".message.is-anchor")
    expect(anchor.locator(".body")).to_have_text("Note 010 with the needle in it")
    expect(anchor).to_be_in_viewport()
    # The messages around it are there; newer ones load as you scroll down to them.
    bodies = ada.page.locator("#history .message .body")
    expect(bodies.first).to_have_text("Note 001")
    expect(bodies).to_have_count(34)  # 9 before it, and it with 24 after
    ada.page.locator("#scroller").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    expect(bodies).to_have_count(84)
    ada.page.locator("#scroller").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    expect(bodies).to_have_count(120)
    expect(bodies.last).to_have_text("Note 120")
    expect(ada.page.locator("#load-newer")).to_have_count(0)

    # The conversation is live as usual.
    ada.send("Found it")
    expect(ada.page.locator("#messages .message .body")).to_have_text(["Found it"])
    healthy(ada, refusals=1)  # the empty search


@pytest.mark.browser
def test_an_empty_search_says_what_to_do(person: Callable[..., Person]) -> None:
    ada = person("ada")
    ada.page.goto("/search/?q=+")
    expect(ada.page.get_by_role("alert")).to_have_text("Type something to search for.")


# Stands in for switching to another tab: Chromium has no headless way to hide a page.
SET_VISIBILITY = """(state) => {
  Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


@pytest.mark.browser
def test_a_room_open_in_a_hidden_tab_is_not_read_until_it_is_seen(
    person: Callable[..., Person], server: Server
) -> None:
    name, slug = seed_room(server, count=1, read_up_to=1)
    ada, grace = person("ada"), person("grace")
    ada.open_room(slug)
    grace.open_room(slug)
    ada.page.evaluate(SET_VISIBILITY, "hidden")

    grace.send("While you were away")
    expect(ada.page.locator("#messages .message")).to_have_count(1)
    # Shown on the page but not seen: the room counts it as unread ...
    expect(badge(ada, name)).to_contain_text("1")
    read_before = badge(ada, name).get_attribute("data-read")

    # ... until the tab is looked at again.
    ada.page.evaluate(SET_VISIBILITY, "visible")
    expect(badge(ada, name)).to_be_hidden()
    assert badge(ada, name).get_attribute("data-read") != read_before
    healthy(ada, grace)
