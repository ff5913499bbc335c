"""The connection badge tells the truth, and a message typed while offline, or while the page
is still loading, is not lost.

The browser going offline is announced at once (the `offline` event); a connection that
silently stops answering is found by the heartbeat within 10 s (frontend connection.js,
realtime/heartbeat.py). A send made while the connection is down shows as pending and is
delivered, once, after reconnecting, even when the first socket to open is refused at once. The
composer shows before the page's scripts run, and
takes a message only once they can send it (frontend composer.js).
"""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Route, ViewportSize, WebSocketRoute, expect

from tests.browser.conftest import Person

SIZES: list[ViewportSize] = [{"width": 390, "height": 844}, {"width": 1280, "height": 800}]
SOCKET = re.compile(r"/ws/")
DEAD_WITHIN_MS = 10_000
WATCH_BADGE = """() => {
  window.__badge = [];
  const badge = document.getElementById("connection-status");
  new MutationObserver(() => {
    window.__badge.push([Date.now(), badge.textContent]);
    if (badge.textContent === "Reconnecting…") document.documentElement.dataset.reconnected = "yes";
  }).observe(badge, { childList: true, characterData: true, subtree: true });
}"""


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES, ids=["phone", "desktop"])
def test_a_message_typed_offline_is_pending_then_delivered_once(
    person: Callable[..., Person], size: ViewportSize
) -> None:
    ada = person("ada")
    grace = person("grace")
    ada.page.set_viewport_size(size)
    ada.open_room("general")
    grace.open_room("general")
    badge = ada.page.locator("#connection-status")
    text = f"Typed on a train {size['width']}"

    ada.page.context.set_offline(True)
    expect(badge).to_have_text("Reconnecting… (offline)")
    expect(badge).to_have_attribute("data-state", "reconnecting")
    ada.send(text)

    pending = ada.page.locator("#pending .is-pending")
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text(text)
    expect(pending).to_contain_text("Not sent yet")
    expect(pending).to_be_in_viewport()
    expect(ada.composer()).to_have_value("")

    ada.page.context.set_offline(False)

    expect(badge).to_have_text("Connected")
    expect(pending).to_have_count(0)
    # A later message arriving means everything sent before it has arrived too.
    later = f"And back on the platform {size['width']}."
    ada.send(later)
    for someone in (ada, grace):
        log = someone.page.locator(".message .body")
        expect(log.filter(has_text=later)).to_have_count(1)
        expect(log.filter(has_text=text)).to_have_count(1)
    assert ada.console_errors == []
    assert ada.csp_violations() == []


@pytest.mark.browser
def test_a_message_held_offline_outlives_a_socket_refused_as_it_opens(
    person: Callable[..., Person],
) -> None:
    """Before: the held message went out over the first socket to open without being kept for
    an acknowledgement; refused right after its accept, that socket lost it for good, and its
    "Not sent yet" stayed."""
    ada = person("ada")
    grace = person("grace")
    grace.open_room("general")
    text = "Held through a refusal"
    refusing = False
    refused: list[str] = []  # what reached the refused socket, in order

    # Sockets go through to the server as they are, but for the one opened while `refusing`:
    # like realtime/sockets/consumer.py `refuse`, the server has accepted it (the page sees it
    # open), reads nothing from it, and closes it with 1013 once the held message is on it.
    def relay(page_side: WebSocketRoute) -> None:
        nonlocal refusing
        page_side.connect_to_server()
        if not refusing:
            return
        refusing = False

        def refuse(message: str | bytes) -> None:
            refused.append(str(message))
            if text in str(message):
                page_side.close(code=1013, reason="The server is busy.")

        page_side.on_message(refuse)

    ada.page.route_web_socket(SOCKET, relay)
    ada.open_room("general")
    badge = ada.page.locator("#connection-status")
    ada.page.context.set_offline(True)
    expect(badge).to_have_text("Reconnecting… (offline)")
    ada.send(text)
    pending = ada.page.locator("#pending .is-pending")
    expect(pending).to_contain_text("Not sent yet")

    refusing = True
    ada.page.context.set_offline(False)

    expect(pending).to_have_count(0)
    expect(badge).to_have_text("Connected")
    assert len([frame for frame in refused if text in frame]) == 1
    # A later message arriving means everything sent before it has arrived too.
    later = "And after the refusal."
    ada.send(later)
    for someone in (ada, grace):
        log = someone.page.locator(".message .body")
        expect(log.filter(has_text=later)).to_have_count(1)
        expect(log.filter(has_text=text)).to_have_count(1)
    expect(ada.page.get_by_text("Not sent yet")).to_have_count(0)
    assert ada.console_errors == []


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES, ids=["phone", "desktop"])
def test_a_connection_that_stops_answering_is_reported_within_ten_seconds(
    person: Callable[..., Person], size: ViewportSize
) -> None:
    ada = person("ada")
    ada.page.set_viewport_size(size)
    sockets: list[WebSocketRoute] = []
    silenced: set[int] = set()

    # Every socket goes through here; a silenced one still reaches the server, but nothing
    # comes back: what a dead network looks like from the page.
    def relay(page_side: WebSocketRoute) -> None:
        number = len(sockets)
        sockets.append(page_side)
        server = page_side.connect_to_server()
        server.on_message(lambda message: None if number in silenced else page_side.send(message))

    ada.page.route_web_socket(SOCKET, relay)
    ada.open_room("general")
    badge = ada.page.locator("#connection-status")

    # What the badge said, and when (the page's own clock): the dead socket is replaced at
    # once, so "Reconnecting…" may show for only a moment.
    ada.page.evaluate(WATCH_BADGE)
    silenced_at = ada.page.evaluate("Date.now()")
    opened = len(sockets)
    silenced.update(range(opened))

    expect(ada.page.locator("html")).to_have_attribute(
        "data-reconnected", "yes", timeout=DEAD_WITHIN_MS
    )
    expect(badge).to_have_text("Connected")
    changes = ada.page.evaluate("window.__badge")
    reconnecting = [at for at, text in changes if text == "Reconnecting…"]
    assert len(reconnecting) == 1
    assert reconnecting[0] - silenced_at < DEAD_WITHIN_MS
    # The page dropped the dead socket and opened another, which answers.
    assert len(sockets) == opened + 1
    ada.send("Heard again")
    expect(ada.page.locator("#messages .message").filter(has_text="Heard again")).to_have_count(1)
    assert ada.console_errors == []


@pytest.mark.browser
def test_a_message_cannot_be_written_before_the_page_can_send_it(
    person: Callable[..., Person],
) -> None:
    """Before: typed into while the scripts loaded, Enter only added a line, and nothing left."""
    ada = person("ada")
    grace = person("grace")
    grace.open_room("general")
    scripts: list[Route] = []

    def hold(route: Route) -> None:  # until released below
        scripts.append(route)

    ada.page.route("**/frontend/app.js", hold)

    ada.page.goto("/rooms/general/", wait_until="commit")
    expect(ada.composer()).to_be_visible()
    assert len(scripts) == 1
    expect(ada.composer()).not_to_be_editable()
    expect(ada.page.get_by_role("button", name="Send", exact=True)).to_be_disabled()

    scripts[0].continue_()
    text = "Written as soon as the box allowed"
    ada.send(text)  # without waiting for "Connected"
    for someone in (ada, grace):
        log = someone.page.locator(".message .body")
        expect(log.filter(has_text=text)).to_have_count(1)
    assert ada.console_errors == []
