"""Take the README screenshots: the main screens as ada sees them, on a phone and a desktop,
in light and dark.

Starts the embedded topology (SQLite in a temporary directory, the in-memory channel layer)
with the demo data, has grace and ada talk for a moment, and writes
docs/screenshots/<screen>-<phone|desktop>-<light|dark>.png (390x844 and 1280x800), plus
docs/screenshot.png and docs/screenshot-dark.png (the desktop room) for the README's top.

    .venv/bin/python scripts/screenshot.py
"""

import sys
import tempfile
from pathlib import Path
from typing import Literal

from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import CHROMIUM, CHROMIUM_ARGS, manage, serving  # noqa: E402

# Generous: the machine may be busy, and a slow screenshot is better than none.
expect.set_options(timeout=15_000)

PASSWORD = "relay-demo-pass"  # noqa: S105 - the documented demo password
CONVERSATION = [
    ("grace", "Morning! I just opened this room in two browsers — it's instant."),
    ("ada", "Every message is saved first, then pushed to the room on commit."),
    ("grace", "Nice. And Shift+Enter gives me a second line,\nlike this one."),
    ("ada", "Exactly. The notes are at https://channels.readthedocs.io/"),
]


SIZES: dict[str, ViewportSize] = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 800},
}
SCHEMES: tuple[Literal["light", "dark"], ...] = ("light", "dark")
SHOTS = ROOT / "docs" / "screenshots"


def open_general(
    browser: Browser,
    base_url: str,
    username: str,
    color_scheme: Literal["light", "dark"] = "light",
    size: str = "desktop",
) -> Page:
    context = browser.new_context(
        base_url=base_url,
        viewport=SIZES[size],
        is_mobile=size == "phone",
        has_touch=size == "phone",
        locale="en-GB",
        timezone_id="UTC",
        color_scheme=color_scheme,
    )
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")
    page.goto("/rooms/general/")
    expect(page.locator("#connection-status")).to_have_text("Connected")
    return page


def take_screenshots(env: dict[str, str], log: Path) -> None:
    with serving(env, log=log) as port, sync_playwright() as playwright:
        base_url = f"http://127.0.0.1:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = {name: open_general(browser, base_url, name) for name in ("ada", "grace")}
        for author, text in CONVERSATION:
            box = pages[author].get_by_label("Message", exact=True)
            box.fill(text)
            box.press("Enter")
            first_line = text.splitlines()[0]
            expect(pages["ada"].locator("#messages").get_by_text(first_line)).to_be_visible()
        SHOTS.mkdir(exist_ok=True)
        for size in SIZES:
            for scheme in SCHEMES:
                shoot_screens(open_general(browser, base_url, "ada", scheme, size), size, scheme)
        for scheme, name in (("light", "screenshot.png"), ("dark", "screenshot-dark.png")):
            (ROOT / "docs" / name).write_bytes((SHOTS / f"room-desktop-{scheme}.png").read_bytes())
        browser.close()


def shoot_screens(page: Page, size: str, scheme: str) -> None:
    def shot(screen: str) -> None:
        page.mouse.move(0, 0)
        page.screenshot(path=SHOTS / f"{screen}-{size}-{scheme}.png")

    shot("room")
    if size == "phone":
        page.get_by_role("button", name="Rooms and direct messages").click()
        expect(page.locator("#sidebar")).to_be_visible()
        shot("drawer")
        page.keyboard.press("Escape")
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    shot("lobby")
    page.goto("/notifications/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    shot("inbox")
    page.goto("/no/such/page/")
    shot("not-found")
    page.context.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        env = {
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{workdir}/db.sqlite3",
            "REDIS_URL": "",
            "DJANGO_SETTINGS_MODULE": "realtime.settings",
            "MEDIA_ROOT": f"{workdir}/media",
            # The conversation links to a public site: no preview is fetched from here.
            "LINK_PREVIEW_PUBLIC": "0",
        }
        manage(env, "migrate", "--noinput")
        manage(env, "load_demo_data")
        log = Path(workdir) / "daphne.log"
        try:
            take_screenshots(env, log)
        except Exception:
            print(f"The server said:\n{log.read_text()}", file=sys.stderr)
            raise
    print(f"Wrote {SHOTS.relative_to(ROOT)}/*.png and docs/screenshot.png, screenshot-dark.png")


if __name__ == "__main__":
    main()
