"""The public demo (DEMO_MODE=1) as a stranger meets it: one click to a guest account, and a
reset while pages are open (docs/demo.md).

These need a server of their own, in demo mode, whose channel layer a separate
`manage.py demo_reset` process reaches: a redis-server of this module's own.
"""

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, ViewportSize, expect

from tests.browser.conftest import RECORD_CSP_VIOLATIONS, TIMEOUT_MS, Person, Server
from tests.browser.notifications.pages import MARK_DOCUMENT, SAME_DOCUMENT
from tests.browser.test_unread import healthy
from tests.servers import free_port, manage, serving, start_redis, stop

MAKE_OLD = """
from datetime import timedelta
from django.utils import timezone
from demo.models import Guest
Guest.objects.filter(user__username="{username}").update(
    created_at=timezone.now() - timedelta(hours=48)
)
"""


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("demo-server")
    redis_port = free_port()
    redis = start_redis(port=redis_port, workdir=workdir)
    env = {
        "DEBUG": "1",
        "DEMO_MODE": "1",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "MEDIA_ROOT": str(workdir / "media"),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "DJANGO_SETTINGS_MODULE": "realtime.settings",
        "LINK_PREVIEW_PUBLIC": "0",
    }
    try:
        manage(env, "migrate", "--noinput")
        manage(env, "load_demo_data")
        log = workdir / "daphne.log"
        with serving(env, log=log) as port:
            yield Server(base_url=f"http://127.0.0.1:{port}", env=env, log=log)
    finally:
        stop(redis)


@pytest.fixture
def stranger(browser: Browser, demo_server: Server) -> Iterator[Callable[..., Person]]:
    """People on the demo server, each in a browser context of their own, not signed in."""
    contexts: list[BrowserContext] = []

    def make(viewport: ViewportSize | None = None) -> Person:
        context = browser.new_context(base_url=demo_server.base_url, viewport=viewport)
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(RECORD_CSP_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        someone = Person(page=page)
        page.on(
            "console",
            lambda message: (
                someone.console_errors.append(f"{page.url}: {message.text}")
                if message.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: someone.console_errors.append(f"{page.url}: {error}"))
        return someone

    yield make
    for context in contexts:
        context.close()


def continue_as_guest(someone: Person) -> str:
    someone.page.goto("/accounts/login/")
    someone.page.get_by_role("button", name="Continue as a guest").click()
    # (Read from the header whatever the layout shows of it at this width.)
    name = someone.page.locator(".viewer strong")
    expect(name).to_have_text(re.compile(r"^Guest-[A-Z][a-z]+-\d+$"))
    return name.inner_text()


@pytest.mark.browser
@pytest.mark.parametrize(
    "viewport",
    [{"width": 390, "height": 844}, {"width": 1280, "height": 800}],
    ids=["phone", "desktop"],
)
def test_a_stranger_signs_in_as_a_guest_with_one_click_and_chats(
    stranger: Callable[..., Person], demo_server: Server, viewport: ViewportSize
) -> None:
    someone = stranger(viewport)
    someone.page.goto("/accounts/login/")
    expect(someone.page.get_by_text("relay-demo-pass")).to_have_count(0)
    name = continue_as_guest(someone)
    assert name.startswith("Guest-")

    someone.page.goto("/rooms/general/")
    expect(someone.page.locator("#connection-status")).to_have_text("Connected")
    someone.send("Hello from a guest")
    message = someone.page.locator("#messages .message", has_text="Hello from a guest")
    expect(message).to_contain_text(name)
    healthy(someone)


@pytest.mark.browser
def test_a_reset_signs_out_the_removed_guest_and_reloads_everyone_else(
    stranger: Callable[..., Person], demo_server: Server
) -> None:
    old, young = stranger(), stranger()
    old_name = continue_as_guest(old)
    continue_as_guest(young)
    for someone in (old, young):
        someone.page.goto("/rooms/general/")
        expect(someone.page.locator("#connection-status")).to_have_text("Connected")
    old.send("Soon to be gone")
    expect(young.page.locator("#messages .message", has_text="Soon to be gone")).to_be_visible()
    young.page.evaluate(MARK_DOCUMENT)
    demo_server.manage("shell", "-c", MAKE_OLD.format(username=old_name))

    # The page is told, shows the notice and reloads itself.
    with young.page.expect_event("load", timeout=30_000):
        demo_server.manage("demo_reset")

    # The removed guest's socket is closed as signed out: the page goes to sign-in.
    expect(old.page).to_have_url(re.compile(r"/accounts/login/"), timeout=15_000)
    expect(old.page.get_by_role("button", name="Continue as a guest")).to_be_visible()
    # Everyone else's page reloaded, without the guest's message.
    assert young.page.evaluate(SAME_DOCUMENT) is False
    expect(young.page.locator("#connection-status")).to_have_text("Connected")
    expect(young.page.locator(".message", has_text="Soon to be gone")).to_have_count(0)
    healthy(young)


@pytest.mark.browser
def test_with_only_a_phone_a_guest_chats_gets_a_direct_message_and_answers(
    stranger: Callable[..., Person], demo_server: Server
) -> None:
    phone = stranger({"width": 390, "height": 844})
    phone_name = continue_as_guest(phone)
    other = stranger({"width": 390, "height": 844})
    other_name = continue_as_guest(other)

    # Find a room through the drawer, and talk there.
    phone.page.goto("/")
    drawer_button = phone.page.get_by_role("button", name="Rooms and direct messages")
    drawer_button.click()
    phone.page.locator("#sidebar").get_by_role("link", name="General").click()
    expect(phone.page.get_by_role("heading", name="#General")).to_be_visible()
    expect(phone.page.locator("#connection-status")).to_have_text("Connected")
    phone.send("A guest, on a phone")
    expect(phone.page.locator("#messages .message", has_text="A guest, on a phone")).to_be_visible()

    # Someone writes to them directly: a toast and an unread dot at once.
    other.page.goto(f"/people/{phone_name}/")
    other.page.get_by_role("button", name="Send a message").click()
    expect(other.page.get_by_role("heading", name=f"@{phone_name}")).to_be_visible()
    expect(other.page.locator("#connection-status")).to_have_text("Connected")
    other.send("Hello, phone")
    expect(phone.page.locator("#toasts .toast[data-verb='direct']")).to_contain_text(other_name)
    expect(phone.page.locator(".drawer-dot")).to_be_visible()

    # They open the conversation from the drawer and answer.
    drawer_button.click()
    phone.page.locator("#sidebar #direct-list a").filter(has_text=other_name).click()
    expect(phone.page.get_by_role("heading", name=f"@{other_name}")).to_be_visible()
    expect(phone.page.get_by_text("Hello, phone")).to_be_in_viewport()
    expect(phone.page.locator("#connection-status")).to_have_text("Connected")
    phone.send("Hello back")
    expect(other.page.locator("#messages .message", has_text="Hello back")).to_be_visible()
    healthy(phone)
    healthy(other)
