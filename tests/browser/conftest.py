"""Fixtures for browser tests: a real Daphne process and Chromium driven by sync Playwright.

The server runs the embedded topology (SQLite in a temporary directory, the in-memory channel
layer) with the demo data loaded. Each test gets fresh browser contexts, so the people in it
do not share cookies; they do share the server's database, so tests name what they create
uniquely.

Run these in their own pytest process (`pytest -m browser`): sync Playwright and
pytest-asyncio cannot share one.
"""

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Locator,
    Page,
    expect,
    sync_playwright,
)

from tests.servers import CHROMIUM, CHROMIUM_ARGS, DEMO_PASSWORD, manage, serving

TIMEOUT_MS = 5_000

# Collects CSP violations from the page itself; init scripts are not subject to the CSP.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""

expect.set_options(timeout=TIMEOUT_MS)


@dataclass(frozen=True)
class Server:
    base_url: str
    env: dict[str, str]
    log: Path  # Daphne's output, to read when a test fails

    def manage(self, *args: str) -> str:
        return manage(self.env, *args)


@dataclass
class Person:
    """One browser context with one page, and what went wrong in it."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    # Dialogs are dismissed (an unexpected alert is a finding); a test that expects a
    # confirmation sets this to accept the next one.
    accept_next_dialog: bool = False

    def csp_violations(self) -> list[str]:
        return list(self.page.evaluate("window.__cspViolations || []"))

    def sign_in(self, username: str, password: str = DEMO_PASSWORD) -> None:
        self.page.goto("/accounts/login/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        # Attached, not visible: on a phone it is in the closed account menu.
        expect(self.page.get_by_text(f"Signed in as {username}")).to_be_attached()

    def open_room(self, slug: str) -> None:
        self.page.goto(f"/rooms/{slug}/")
        expect(self.page.locator("#connection-status")).to_have_text("Connected")

    def composer(self) -> Locator:
        return self.page.get_by_label("Message", exact=True)

    def send(self, text: str) -> None:
        box = self.composer()
        # As a person does: the box takes text once the page can send it (composer.js).
        expect(box).to_be_editable()
        box.press_sequentially(text)
        box.press("Enter")


def _services_required() -> bool:
    ci = os.environ.get("CI", "").strip().lower()
    return os.environ.get("REQUIRE_SERVICES") == "1" or ci not in ("", "0", "false", "no")


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing (apt-get install chromium); the browser tests drive it"
    if _services_required():
        pytest.fail(f"{reason} (CI or REQUIRE_SERVICES=1 is set, so this fails)", pytrace=False)
    pytest.skip(f"{reason}; set REQUIRE_SERVICES=1 to make this an error")


@contextlib.contextmanager
def demo_site(workdir: Path, **settings: str) -> Iterator[Server]:
    """The app with its demo data, on SQLite in `workdir`, served by Daphne on 127.0.0.1 with
    these settings besides the embedded defaults."""
    env = {
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "MEDIA_ROOT": str(workdir / "media"),
        # An empty REDIS_URL selects the in-memory channel layer even if the shell sets one.
        "REDIS_URL": "",
        # pytest-django exports tests.settings (an in-memory database) to child processes.
        "DJANGO_SETTINGS_MODULE": "realtime.settings",
        **settings,
    }
    manage(env, "migrate", "--noinput")
    manage(env, "load_demo_data")
    log = workdir / "daphne.log"
    with serving(env, log=log) as port:
        yield Server(base_url=f"http://127.0.0.1:{port}", env=env, log=log)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Link previews: only the local test site, never the internet.
    with demo_site(
        tmp_path_factory.mktemp("browser-server"),
        LINK_PREVIEW_PUBLIC="0",
        LINK_PREVIEW_ALLOWED_NETWORKS="127.0.0.1/32",
    ) as site:
        yield site


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    _require_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def person(browser: Browser, server: Server) -> Iterator[Callable[..., Person]]:
    """Makes people, each in a browser context of their own: `person()` or `person("ada")`,
    with any of Playwright's context options (`person("ada", **TOUCH_PHONE)`)."""
    contexts = []

    def make(username: str | None = None, **options: Any) -> Person:
        context = browser.new_context(base_url=server.base_url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(RECORD_CSP_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        someone = Person(page=page)

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                someone.console_errors.append(f"{page.url}: {message.text}")

        def on_dialog(dialog: Dialog) -> None:
            someone.dialogs.append(dialog.message)
            if someone.accept_next_dialog:
                someone.accept_next_dialog = False
                dialog.accept()
            else:
                dialog.dismiss()

        page.on("console", on_console)
        page.on("pageerror", lambda error: someone.console_errors.append(f"{page.url}: {error}"))
        page.on("dialog", on_dialog)
        if username is not None:
            someone.sign_in(username)
        return someone

    yield make
    for context in contexts:
        context.close()
