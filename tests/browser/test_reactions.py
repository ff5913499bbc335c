"""Reactions on messages, as two people use them: one picks an emoji, the other sees it count
and, on hover or focus, who picked it; on a phone too, through a block, and after a dropped
socket. A message nobody reacted to keeps no room for reactions, and its picker is a tap or a
key press away."""

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, expect

from tests.browser.conftest import Person
from tests.browser.test_mobile import (
    DESKTOP,
    PHONES,
    TOUCH_PHONE,
    inside_window,
    sideways_overflow,
)
from tests.browser.test_reconnect import GO_OFFLINE, REPORT_DROP, open_room_recording_sockets


def token() -> str:
    return uuid.uuid4().hex[:8]


def live_message(someone: Person, text: str) -> Locator:
    return someone.page.locator("#messages .message").filter(has_text=text)


def react(someone: Person, message: Locator, label: str) -> None:
    message.hover()
    message.locator("summary", has_text="Add a reaction").click()
    message.get_by_role("button", name=f"React with {label}").click()


def shown(chips: Locator) -> list[str]:
    """Each chip as the page draws it: its emoji and its count. The count is a CSS counter,
    which neither the DOM nor the accessibility tree holds: it is read from Chromium's layout
    (a DOM snapshot's text of each count's ::after)."""
    page = chips.page
    emoji = chips.locator(".reaction-emoji").all_inner_texts()
    chips.locator(".reaction-count").evaluate_all(
        "(counts) => counts.forEach((count, n) => { count.dataset.probe = String(n); })"
    )
    cdp = page.context.new_cdp_session(page)
    try:
        snapshot = cdp.send("DOMSnapshot.captureSnapshot", {"computedStyles": []})
    finally:
        cdp.detach()
    strings = snapshot["strings"]
    nodes = snapshot["documents"][0]["nodes"]
    layout = snapshot["documents"][0]["layout"]
    probes = {}
    for index, attributes in enumerate(nodes["attributes"]):
        pairs = dict(zip(attributes[::2], attributes[1::2], strict=True))
        for name, value in pairs.items():
            if strings[name] == "data-probe":
                probes[index] = int(strings[value])
    counts: dict[int, str] = {}
    for node, text in zip(layout["nodeIndex"], layout["text"], strict=True):
        parent = nodes["parentIndex"][node]
        if text >= 0 and strings[nodes["nodeName"][node]] == "::after" and parent in probes:
            counts[probes[parent]] = strings[text]
    return [f"{emoji[n]} {counts.get(n, '')}" for n in range(len(emoji))]


def accessible_name(chip: Locator) -> str:
    """The button's name as Chromium computes it for screen readers."""
    page = chip.page
    chip.evaluate("(chip) => { chip.dataset.named = '1'; }")
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "[data-named]"})
        tree = cdp.send("Accessibility.getPartialAXTree", {"nodeId": node["nodeId"]})
    finally:
        chip.evaluate("(chip) => { delete chip.dataset.named; }")
        cdp.detach()
    return " ".join(tree["nodes"][0]["name"]["value"].split())


@pytest.mark.browser
def test_a_reaction_shows_its_count_and_who_to_the_other_person(
    person: Callable[..., Person],
) -> None:
    ada, grace = person("ada"), person("grace")
    ada.open_room("random")
    grace.open_room("random")
    text = f"React to this {token()}"
    ada.send(text)
    theirs = live_message(grace, text)
    expect(theirs).to_have_count(1)

    react(grace, theirs, "party")

    mine = live_message(ada, text)
    chip = mine.locator(".reaction")
    expect(chip.locator(".reactor")).to_have_text(["grace"])
    assert shown(chip) == ["🎉 1"]
    # Who reacted: shown on hover (and focus), and read with the emoji by a screen reader.
    reactors = chip.locator(".reactors")
    expect(reactors).to_have_css("opacity", "0")
    chip.hover()
    expect(reactors).to_have_css("opacity", "1")
    assert accessible_name(chip) == "🎉 grace"
    # The viewer's own reaction is marked on their page only.
    accent = hex_to_rgb(
        grace.page.evaluate(
            "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"
        )
    )
    expect(theirs.locator(".reaction")).to_have_css("border-color", accent)
    expect(chip).not_to_have_css("border-color", accent)

    # Ada adds hers by pressing the same reaction: two, for both of them.
    chip.click()
    expect(chip.locator(".reactor")).to_have_text(["grace", "ada"])
    expect(theirs.locator(".reactor")).to_have_text(["grace", "ada"])
    assert shown(theirs.locator(".reaction")) == ["🎉 2"]
    assert accessible_name(theirs.locator(".reaction")) == "🎉 grace, ada"
    # And grace takes hers back.
    theirs.locator(".reaction").click()
    expect(chip.locator(".reactor")).to_have_text(["ada"])
    assert shown(chip) == ["🎉 1"]
    assert ada.console_errors == []
    assert grace.console_errors == []
    assert ada.csp_violations() == []
    assert grace.csp_violations() == []


def hex_to_rgb(color: str) -> str:
    value = color.lstrip("#")
    red, green, blue = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgb({red}, {green}, {blue})"


@pytest.mark.browser
def test_reactions_fit_a_phone(person: Callable[..., Person]) -> None:
    ada, grace = person("ada", **TOUCH_PHONE), person("grace", **TOUCH_PHONE)
    ada.open_room("general")
    grace.open_room("general")
    text = f"On a phone {token()}"
    ada.send(text)
    theirs = live_message(grace, text)
    expect(theirs).to_have_count(1)

    # No hover on a phone: a tap on the message shows the picker, which opens inside the screen.
    theirs.tap()
    theirs.locator("summary", has_text="Add a reaction").tap()
    choices = theirs.locator(".reaction-choices")
    expect(choices).to_be_visible()
    box = choices.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONES[0]["width"]
    theirs.get_by_role("button", name="React with heart").tap()

    mine = live_message(ada, text)
    chip = mine.locator(".reaction")
    expect(chip.locator(".reactor")).to_have_text(["grace"])
    assert shown(chip) == ["❤️ 1"]
    chip.focus()
    expect(chip.locator(".reactors")).to_have_css("opacity", "1")
    assert sideways_overflow(ada.page) == 0
    assert sideways_overflow(grace.page) == 0
    assert inside_window(ada.page, f"#{mine.get_attribute('id')} .reaction")


def room_for_reactions(message: Locator) -> float:
    """How much taller the message is for its reactions bar: its height as it is, less its
    height with the bar taken out of the page."""
    return float(
        message.evaluate(
            """(message) => {
                const bar = message.querySelector(".reactions");
                const withBar = message.getBoundingClientRect().height;
                bar.style.display = "none";
                const without = message.getBoundingClientRect().height;
                bar.style.display = "";
                return withBar - without;
            }"""
        )
    )


def outer_height(element: Locator) -> float:
    """The element's height with its top margin, as it adds to its row."""
    return float(
        element.evaluate(
            "(e) => e.getBoundingClientRect().height + parseFloat(getComputedStyle(e).marginTop)"
        )
    )


@pytest.mark.browser
def test_a_message_without_reactions_keeps_no_room_for_them_on_a_phone(
    person: Callable[..., Person],
) -> None:
    ada = person("ada", **TOUCH_PHONE, color_scheme="dark")
    ada.open_room("general")
    assert ada.page.evaluate("matchMedia('(hover: none)').matches")
    text = f"Nothing to react to yet {token()}"
    ada.send(text)
    message = live_message(ada, text)
    expect(message).to_have_count(1)

    assert room_for_reactions(message) == 0
    picker = message.locator("summary", has_text="Add a reaction")
    expect(message.locator(".reaction-picker")).to_have_css("opacity", "0")
    # A tap on the message shows the way to react, as it shows its other actions.
    message.tap()
    expect(message.locator(".reaction-picker")).to_have_css("opacity", "1")
    assert inside_window(ada.page, f"#{message.get_attribute('id')} summary")
    assert room_for_reactions(message) == 0
    picker.tap()
    message.get_by_role("button", name="React with heart").tap()

    # Reacted to, the message shows its reactions below it, and the picker beside them.
    bar = message.locator(".reactions")
    expect(bar.locator(".reactor")).to_have_text(["ada"])
    # Within layout's rounding (a 64th of a pixel per edge).
    assert room_for_reactions(message) == pytest.approx(outer_height(bar), abs=0.1)
    expect(bar.locator(".reaction-picker")).to_have_css("opacity", "1")


@pytest.mark.browser
def test_the_keyboard_reaches_the_picker_of_a_message_without_reactions(
    person: Callable[..., Person],
) -> None:
    ada = person("ada", viewport=DESKTOP)
    ada.open_room("general")
    text = f"React with the keyboard {token()}"
    ada.send(text)
    message = live_message(ada, text)
    expect(message).to_have_count(1)
    assert room_for_reactions(message) == 0

    ada.page.keyboard.press("Shift+Tab")  # back from the composer: the newest message's picker
    picker = message.locator("summary", has_text="Add a reaction")
    expect(picker).to_be_focused()
    expect(message.locator(".reaction-picker")).to_have_css("opacity", "1")
    ada.page.keyboard.press("Enter")
    ada.page.keyboard.press("Tab")
    expect(message.get_by_role("button", name="React with thumbs up")).to_be_focused()
    ada.page.keyboard.press("Enter")

    expect(message.locator(".reaction .reactor")).to_have_text(["ada"])
    assert shown(message.locator(".reaction")) == ["👍 1"]


@pytest.mark.browser
def test_a_blocked_persons_reaction_is_neither_counted_nor_named(
    person: Callable[..., Person],
) -> None:
    ada, grace, linus = person("ada"), person("grace"), person("linus")
    profile = linus.page.context.new_page()
    profile.goto("/people/grace/")
    profile.get_by_role("button", name="Block").click()
    expect(profile.get_by_text("You blocked grace")).to_be_visible()
    try:
        for someone in (ada, grace, linus):
            someone.open_room("random")
        text = f"Who reacts {token()}"
        ada.send(text)
        seen = live_message(linus, text)
        expect(seen).to_have_count(1)

        # Each waits for the other's push: a push replaces the bar, and an open picker with it.
        react(grace, live_message(grace, text), "sad")
        expect(live_message(ada, text).locator(".reactor")).to_have_count(1)
        react(ada, live_message(ada, text), "thumbs up")
        expect(live_message(grace, text).locator(".reactor")).to_have_count(2)
        react(grace, live_message(grace, text), "thumbs up")
        expect(live_message(ada, text).locator(".reactor")).to_have_count(3)
        expect(seen.locator(".reactor")).to_have_count(3)

        # To linus, grace's reactions are not there: 😢 (hers alone) is gone, 👍 counts ada.
        assert shown(live_message(ada, text).locator(".reaction")) == ["👍 2", "😢 1"]
        expect(seen.locator(".reaction").filter(has_text="😢")).to_be_hidden()
        thumbs = seen.locator(".reaction").filter(has_text="👍")
        expect(thumbs).to_be_visible()
        assert shown(thumbs) == ["👍 1"]
        assert accessible_name(thumbs) == "👍 ada"
        # The same after a reload, from the page's history.
        linus.page.reload()
        expect(linus.page.locator("#connection-status")).to_have_text("Connected")
        again = linus.page.locator(".message").filter(has_text=text)
        assert shown(again.locator(".reaction").filter(has_text="👍")) == ["👍 1"]
        expect(again.locator(".reaction").filter(has_text="😢")).to_be_hidden()
    finally:
        profile.get_by_role("button", name="Unblock").click()
        expect(profile.get_by_role("button", name="Block")).to_be_visible()


@pytest.mark.browser
def test_a_page_whose_socket_dropped_gets_the_reactions_it_missed(
    person: Callable[..., Person],
) -> None:
    ada, grace = person("ada"), person("grace")
    ada.open_room("django")
    open_room_recording_sockets(grace, "django")
    text = f"While you were away {token()}"
    ada.send(text)
    theirs = live_message(grace, text)
    expect(theirs).to_have_count(1)

    grace.page.evaluate(GO_OFFLINE)
    react(ada, live_message(ada, text), "surprised")
    expect(live_message(ada, text).locator(".reactor")).to_have_text(["ada"])
    assert theirs.locator(".reaction").count() == 0  # the push never reached grace's page

    grace.page.evaluate(REPORT_DROP)  # the page reconnects, and resumes from its cursors
    expect(grace.page.locator("#connection-status")).to_have_text("Connected")
    expect(theirs.locator(".reactor")).to_have_text(["ada"])
    assert shown(theirs.locator(".reaction")) == ["😮 1"]
    assert grace.page.evaluate("window.__sameDocument === true"), "the page was reloaded"
