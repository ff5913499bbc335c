"""A person past their budget (chat.limits) is told so in the page, and loses nothing."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from chat.logic import TOO_FAST
from tests.browser.conftest import TIMEOUT_MS, Person, demo_site


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # One message, edit or delete, then none for the rest of the test.
    workdir = tmp_path_factory.mktemp("send-budget")
    with demo_site(workdir, CHAT_SEND_BURST="1", CHAT_SEND_RATE="0.0001") as site:
        yield site.base_url


@pytest.mark.browser
def test_an_edit_or_delete_past_the_budget_says_so_and_keeps_everything(
    browser: Browser, base_url: str
) -> None:
    context = browser.new_context(base_url=base_url)
    context.set_default_timeout(TIMEOUT_MS)
    ada = Person(page=context.new_page())
    ada.page.on("dialog", lambda dialog: dialog.accept())
    ada.sign_in("ada")
    ada.open_room("general")
    ada.send("A first draft")
    mine = ada.page.locator(".message").filter(has_text="A first draft")
    expect(mine).to_be_visible()

    mine.get_by_role("button", name="Edit").click()
    editor = ada.page.get_by_label("Edit message")
    editor.fill("The final text")
    ada.page.get_by_role("button", name="Save").click()
    # The editor stays open with the reason and the text as typed, to save later.
    expect(ada.page.get_by_role("alert").filter(has_text=TOO_FAST)).to_be_visible()
    expect(ada.page.get_by_label("Edit message")).to_have_value("The final text")

    ada.page.get_by_role("button", name="Cancel").click()
    mine.get_by_role("button", name="Delete").click()
    expect(ada.page.locator("#socket-error")).to_have_text(TOO_FAST)
    expect(mine).to_contain_text("A first draft")
    expect(ada.page.get_by_text("This message was deleted.")).to_have_count(0)
    context.close()
