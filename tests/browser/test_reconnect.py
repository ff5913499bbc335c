"""A tab whose socket drops reconnects by itself and catches up.

The drop is simulated in the page: the socket is closed quietly, and htmx's ws extension is
then told it closed abnormally (1006), as after a network blip, so it reconnects on its own.
Whatever happens between the two steps happens while the tab is offline, deterministically.
"""

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Person

RECORD_SOCKETS = """
window.__sockets = [];
window.WebSocket = new Proxy(window.WebSocket, {
  construct(target, args) {
    const socket = Reflect.construct(target, args);
    window.__sockets.push(socket);
    return socket;
  },
});
"""
GO_OFFLINE = """
async () => {
  const socket = window.__sockets.at(-1);
  window.__reportClose = socket.onclose;
  socket.onclose = null;
  const closed = new Promise((resolve) => socket.addEventListener("close", resolve));
  socket.close();
  await closed;
}
"""
# Returns the connection badge's state right after the drop, before any reconnect can run.
REPORT_DROP = """
() => {
  window.__reportClose(new CloseEvent("close", { code: 1006 }));
  return document.getElementById("connection-status").dataset.state;
}
"""


def open_room_recording_sockets(someone: Person, slug: str) -> None:
    someone.page.add_init_script(RECORD_SOCKETS)
    someone.open_room(slug)
    someone.page.evaluate("window.__sameDocument = true")


@pytest.mark.browser
def test_a_dropped_socket_reconnects_and_sends_what_was_typed_meanwhile(
    person: Callable[..., Person],
) -> None:
    ada, grace = person("ada"), person("grace")
    ada.open_room("general")
    open_room_recording_sockets(grace, "general")
    badge = grace.page.locator("#connection-status")

    grace.page.evaluate(GO_OFFLINE)
    grace.send("Typed while my connection was down.")
    expect(grace.composer()).to_have_value("Typed while my connection was down.")
    assert grace.page.evaluate(REPORT_DROP) == "reconnecting"

    expect(badge).to_have_text("Connected")
    expect(ada.page.locator("#messages")).to_contain_text("Typed while my connection was down.")
    expect(grace.composer()).to_have_value("")
    ada.send("Welcome back, Grace.")
    expect(grace.page.locator("#messages")).to_contain_text("Welcome back, Grace.")
    assert grace.page.evaluate("window.__sameDocument === true")


@pytest.mark.browser
def test_a_reconnected_tab_receives_the_messages_it_missed(
    person: Callable[..., Person],
) -> None:
    ada, grace = person("ada"), person("grace")
    ada.open_room("general")
    open_room_recording_sockets(grace, "general")

    grace.page.evaluate(GO_OFFLINE)
    ada.send("Posted while Grace was offline.")
    expect(ada.page.locator("#messages")).to_contain_text("Posted while Grace was offline.")
    grace.page.evaluate(REPORT_DROP)

    expect(grace.page.locator("#connection-status")).to_have_text("Connected")
    expect(grace.page.locator("#messages")).to_contain_text("Posted while Grace was offline.")
    # Exactly once, and the conversation stays in order when she talks again.
    expect(grace.page.get_by_text("Posted while Grace was offline.")).to_have_count(1)
    grace.send("Back now.")
    expect(grace.page.locator("#messages .message").last).to_contain_text("Back now.")
    assert grace.page.evaluate("window.__sameDocument === true")


# The frame leaves the page but never reaches the server, as when a socket dies mid-send.
LOSE_NEXT_FRAME = """
() => {
  const socket = window.__sockets.at(-1);
  const send = socket.send.bind(socket);
  socket.send = (data) => { socket.send = send; };
}
"""


@pytest.mark.browser
def test_a_send_lost_with_its_socket_is_sent_again_after_reconnecting(
    person: Callable[..., Person],
) -> None:
    ada, grace = person("ada"), person("grace")
    ada.open_room("general")
    open_room_recording_sockets(grace, "general")

    grace.page.evaluate(LOSE_NEXT_FRAME)
    grace.send("This one must not be lost.")
    expect(grace.composer()).to_have_value("")
    grace.page.evaluate(GO_OFFLINE)
    grace.page.evaluate(REPORT_DROP)

    expect(grace.page.locator("#connection-status")).to_have_text("Connected")
    expect(ada.page.locator("#messages")).to_contain_text("This one must not be lost.")
    expect(ada.page.get_by_text("This one must not be lost.")).to_have_count(1)
    expect(grace.page.get_by_text("This one must not be lost.")).to_have_count(1)
