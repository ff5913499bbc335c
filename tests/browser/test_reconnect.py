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
@pytest.mark.xfail(
    strict=True,
    reason=(
        "Chat has no resume cursor yet: messages posted while a tab's socket is down are "
        "never sent to it after it reconnects (DESIGN.md, 'Durable first, then live')."
    ),
)
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
    assert grace.page.evaluate("window.__sameDocument === true")
