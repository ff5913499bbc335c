"""Private rooms, direct messages, blocking, and editing, as people use them in a browser."""

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, expect

from tests.browser.conftest import Person, Server


def token() -> str:
    return uuid.uuid4().hex[:8]


def message(someone: Person, text: str) -> Locator:
    return someone.page.locator(".message").filter(has_text=text)


@pytest.mark.browser
def test_a_direct_message_started_from_a_profile(person: Callable[..., Person]) -> None:
    ada, grace = person("ada"), person("grace")
    grace.page.goto("/")
    expect(grace.page.locator("#connection-status")).to_have_text("Connected")

    ada.page.goto("/people/grace/")
    ada.page.get_by_role("button", name="Send a message").click()
    expect(ada.page.get_by_role("heading", name="@grace")).to_be_visible()
    expect(ada.page.locator("#connection-status")).to_have_text("Connected")
    text = f"Just between us {token()}"
    ada.send(text)
    expect(message(ada, text)).to_have_count(1)

    # The conversation appears in grace's sidebar while she is looking elsewhere.
    link = grace.page.locator("#direct-list").get_by_role("link", name="ada")
    expect(link).to_be_visible()
    link.click()
    expect(grace.page.get_by_role("heading", name="@ada")).to_be_visible()
    expect(message(grace, text)).to_have_count(1)


@pytest.mark.browser
def test_an_invitation_to_a_private_room_is_accepted(person: Callable[..., Person]) -> None:
    ada, grace, linus = person("ada"), person("grace"), person("linus")
    name = f"Plans {token()}"
    grace.page.goto("/")
    linus.page.goto("/")
    expect(grace.page.locator("#connection-status")).to_have_text("Connected")
    expect(linus.page.locator("#connection-status")).to_have_text("Connected")

    ada.page.goto("/")
    ada.page.get_by_label("New room").fill(name)
    ada.page.get_by_label("Private: members only, by invitation").check()
    ada.page.get_by_role("button", name="Create").click()
    expect(ada.page.get_by_role("heading", name=f"#{name}")).to_be_visible()
    ada.page.get_by_text("Members (1)").click()
    ada.page.get_by_label("Invite someone").fill("grace")
    ada.page.get_by_role("button", name="Invite", exact=True).click()
    expect(ada.page.get_by_text("Invited grace.")).to_be_visible()

    # grace is told at once; linus never hears of the room.
    expect(grace.page.locator("#toasts")).to_contain_text(f"ada invited you to #{name}")
    grace.page.goto("/")
    grace.page.get_by_role("link", name=f"ada invited you to #{name}").click()
    grace.page.get_by_role("button", name="Accept and join").click()
    expect(grace.page.get_by_role("heading", name=f"#{name}")).to_be_visible()
    expect(grace.page.locator("#connection-status")).to_have_text("Connected")

    text = f"Welcome aboard {token()}"
    ada.page.reload()
    expect(ada.page.locator("#connection-status")).to_have_text("Connected")
    ada.send(text)
    expect(message(grace, text)).to_have_count(1)
    expect(linus.page.locator("#room-list")).not_to_contain_text(name)
    linus.page.reload()
    expect(linus.page.locator("#room-list")).not_to_contain_text(name)


@pytest.mark.browser
def test_blocking_hides_messages_live_and_in_history(person: Callable[..., Person]) -> None:
    ada, grace = person("ada"), person("grace")
    ada.open_room("random")
    grace.open_room("random")
    before, after = f"Before the block {token()}", f"After the block {token()}"
    ada.send(before)
    expect(message(grace, before)).to_be_visible()

    profile = grace.page.context.new_page()
    profile.goto("/people/ada/")
    profile.get_by_role("button", name="Block").click()
    expect(profile.get_by_text("You blocked ada")).to_be_visible()

    # Hidden at once in the room grace already has open, and for what ada says next.
    expect(message(grace, before)).to_be_hidden()
    ada.send(after)
    expect(message(ada, after)).to_be_visible()
    expect(message(grace, after)).to_be_hidden()
    # History leaves them out altogether; grace's own messages stay.
    grace.page.reload()
    expect(grace.page.locator("#connection-status")).to_have_text("Connected")
    expect(message(grace, before)).to_have_count(0)
    expect(message(grace, after)).to_have_count(0)
    # To ada, grace is not there at all: no profile, so no way to message her.
    response = ada.page.goto("/people/grace/")
    assert response is not None
    assert response.status == 404

    profile.get_by_role("button", name="Unblock").click()
    expect(profile.get_by_role("button", name="Block")).to_be_visible()
    grace.page.reload()
    expect(message(grace, after)).to_be_visible()
    assert grace.csp_violations() == []


@pytest.mark.browser
def test_edits_and_deletes_are_seen_live_in_another_tab(person: Callable[..., Person]) -> None:
    ada, grace = person("ada"), person("grace")
    ada.open_room("django")
    other_tab = ada.page.context.new_page()
    other_tab.goto("/rooms/django/")
    expect(other_tab.locator("#connection-status")).to_have_text("Connected")
    grace.open_room("django")
    draft, final = f"Frist draft {token()}", f"First draft {token()}"
    ada.send(draft)
    mine = message(ada, draft)
    expect(mine).to_be_visible()
    # Only one's own messages offer editing.
    expect(message(grace, draft).get_by_role("button", name="Edit")).to_be_hidden()

    mine.get_by_role("button", name="Edit").click()
    editor = ada.page.get_by_label("Edit message")
    expect(editor).to_have_value(draft)
    editor.fill(final)
    ada.page.get_by_role("button", name="Save").click()

    for page in (ada.page, other_tab, grace.page):
        edited = page.locator(".message").filter(has_text=final)
        expect(edited).to_be_visible()
        expect(edited.locator(".edited")).to_have_text("(edited)")
    expect(other_tab.get_by_text(draft)).to_have_count(0)

    article = f"#{message(ada, final).get_attribute('id')}"
    # Deleting asks first: cancelled, nothing happens; confirmed, it is gone for everyone.
    message(ada, final).get_by_role("button", name="Delete").click()
    assert ada.dialogs == ["Delete this message for everyone in the room?"]
    expect(grace.page.locator(article)).to_contain_text(final)
    ada.accept_next_dialog = True
    message(ada, final).get_by_role("button", name="Delete").click()
    for page in (ada.page, other_tab, grace.page):
        expect(page.locator(article)).to_contain_text("This message was deleted.")
        expect(page.get_by_text(final)).to_have_count(0)
    assert ada.console_errors == []
    assert grace.console_errors == []


RECORD_TIMERS = """
window.__timers = [];
const setTimeoutOriginal = window.setTimeout;
window.setTimeout = (callback, delay, ...rest) => {
  window.__timers.push(delay);
  return setTimeoutOriginal(callback, delay, ...rest);
};
"""


@pytest.mark.browser
def test_a_dropped_socket_shows_reconnecting_and_retries_after_a_jittered_delay(
    person: Callable[..., Person],
) -> None:
    from tests.browser.test_reconnect import GO_OFFLINE, RECORD_SOCKETS, REPORT_DROP

    grace = person("grace")
    grace.page.add_init_script(RECORD_SOCKETS)
    grace.page.add_init_script(RECORD_TIMERS)
    grace.open_room("general")
    assert grace.page.evaluate("htmx.config.wsReconnectDelay") == "full-jitter"

    # The first retry waits a random part of one second.
    grace.page.evaluate("Math.random = () => 0.25")
    grace.page.evaluate(GO_OFFLINE)
    grace.page.evaluate("window.__timers = []")
    assert grace.page.evaluate(REPORT_DROP) == "reconnecting"
    expect(grace.page.locator("#connection-status")).to_have_text("Reconnecting…")
    assert 250 in grace.page.evaluate("window.__timers")
    expect(grace.page.locator("#connection-status")).to_have_text("Connected")

    grace.page.evaluate("Math.random = () => 0.75")
    grace.page.evaluate(GO_OFFLINE)
    grace.page.evaluate("window.__timers = []")
    grace.page.evaluate(REPORT_DROP)
    assert 750 in grace.page.evaluate("window.__timers")
    expect(grace.page.locator("#connection-status")).to_have_text("Connected")


@pytest.mark.browser
def test_a_removed_member_is_told_at_once_and_hears_no_more(
    person: Callable[..., Person], server: Server
) -> None:
    name = f"Inner circle {token()}"
    server.manage("shell", "-c", PRIVATE_ROOM_FOR_ADA_AND_GRACE.format(name=name))
    slug = name.lower().replace(" ", "-")
    ada, grace = person("ada"), person("grace")
    ada.open_room(slug)
    grace.open_room(slug)
    expect(grace.page.locator("#room-list")).to_contain_text(name)

    ada.page.get_by_text("Members (2)").click()
    ada.page.locator(".member-list li").filter(has_text="grace").get_by_role(
        "button", name="Remove"
    ).click()

    expect(grace.page.locator("#composer")).to_have_text(
        f"You are no longer a member of #{name}. Back to the rooms"
    )
    expect(grace.page.locator("#room-list")).not_to_contain_text(name)
    later = f"After grace left {token()}"
    ada.page.goto(f"/rooms/{slug}/")
    expect(ada.page.locator("#connection-status")).to_have_text("Connected")
    ada.send(later)
    expect(message(ada, later)).to_be_visible()
    # A marker that does reach grace, sent after: had the message reached her, it came first.
    marker = f"@grace marker {token()}"
    ada.open_room("general")
    ada.send(marker)
    expect(grace.page.locator("#toasts .toast").filter(has_text=marker)).to_be_visible()
    expect(message(grace, later)).to_have_count(0)
    assert grace.console_errors == []


PRIVATE_ROOM_FOR_ADA_AND_GRACE = """
from django.contrib.auth import get_user_model
from django.utils.text import slugify
from chat.models import Membership, Room

people = get_user_model().objects
ada, grace = people.get(username="ada"), people.get(username="grace")
room = Room.objects.create(
    name="{name}", slug=slugify("{name}"), kind=Room.Kind.PRIVATE, created_by=ada
)
Membership.objects.bulk_create([Membership(room=room, user=ada), Membership(room=room, user=grace)])
"""


@pytest.mark.browser
def test_edits_and_deletes_made_while_offline_are_caught_up_after_reconnecting(
    person: Callable[..., Person],
) -> None:
    from tests.browser.test_reconnect import GO_OFFLINE, RECORD_SOCKETS, REPORT_DROP

    ada, grace = person("ada"), person("grace")
    ada.open_room("general")
    grace.page.add_init_script(RECORD_SOCKETS)
    grace.open_room("general")
    draft, final, doomed = (f"{word} {token()}" for word in ("Draft", "Final", "Doomed"))
    ada.send(draft)
    ada.send(doomed)
    expect(message(grace, doomed)).to_be_visible()
    doomed_id = f"#{message(ada, doomed).get_attribute('id')}"

    grace.page.evaluate(GO_OFFLINE)
    message(ada, draft).get_by_role("button", name="Edit").click()
    ada.page.get_by_label("Edit message").fill(final)
    ada.page.get_by_role("button", name="Save").click()
    expect(message(ada, final)).to_be_visible()
    ada.accept_next_dialog = True
    message(ada, doomed).get_by_role("button", name="Delete").click()
    expect(ada.page.locator(doomed_id)).to_contain_text("This message was deleted.")
    expect(message(grace, draft)).to_be_visible()  # offline: still the old text
    grace.page.evaluate(REPORT_DROP)

    expect(grace.page.locator("#connection-status")).to_have_text("Connected")
    expect(message(grace, final)).to_have_count(1)
    expect(message(grace, final).locator(".edited")).to_have_text("(edited)")
    expect(grace.page.get_by_text(draft)).to_have_count(0)
    expect(grace.page.locator(doomed_id)).to_contain_text("This message was deleted.")
    expect(grace.page.get_by_text(doomed)).to_have_count(0)
