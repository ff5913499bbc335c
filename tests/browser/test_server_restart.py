"""A page whose server process restarts while someone else keeps posting.

Two Daphne processes share a SQLite database and a redis-server of this test's own (on a
free port, nothing saved); grace's page is served by A, ada's by B. A is stopped with SIGTERM
and started again on the same port while ada posts through B.
"""

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import TIMEOUT_MS, Person
from tests.servers import LOCALHOST, free_port, manage, start_redis, start_server, stop

# The page reconnects with jittered, doubling delays while its server is away.
RECONNECT_MS = 40_000


@dataclass
class Pair:
    env: dict[str, str]
    a_port: int
    b_port: int
    log: Path
    a: subprocess.Popen[bytes] | None = None
    b: subprocess.Popen[bytes] | None = None

    def start_a(self) -> None:
        self.a = start_server(self.env, port=self.a_port, log=self.log)

    def stop_a(self) -> int:
        assert self.a is not None
        code = stop(self.a)
        self.a = None
        return code


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    workdir = tmp_path_factory.mktemp("restart")
    redis_port = free_port()
    redis_server = start_redis(port=redis_port, workdir=workdir)
    try:
        env = {
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
            "MEDIA_ROOT": str(workdir / "media"),
            "REDIS_URL": f"redis://{LOCALHOST}:{redis_port}/0",
            "DJANGO_SETTINGS_MODULE": "realtime.settings",
            "PYTHONUNBUFFERED": "1",
        }
        manage(env, "migrate", "--noinput")
        manage(env, "load_demo_data")
        pair = Pair(env=env, a_port=free_port(), b_port=free_port(), log=workdir / "daphne.log")
        pair.start_a()
        pair.b = start_server(env, port=pair.b_port, log=pair.log)
        yield pair
        for process in (pair.a, pair.b):
            if process is not None:
                stop(process)
    finally:
        stop(redis_server)


def person_on(browser: Browser, port: int, username: str) -> Person:
    context = browser.new_context(base_url=f"http://{LOCALHOST}:{port}")
    context.set_default_timeout(TIMEOUT_MS)
    someone = Person(page=context.new_page())
    someone.page.on("pageerror", lambda error: someone.console_errors.append(str(error)))
    someone.sign_in(username)
    return someone


@pytest.mark.browser
def test_a_page_whose_server_restarts_sees_every_missed_message_once_in_order(
    browser: Browser, pair: Pair
) -> None:
    grace = person_on(browser, pair.a_port, "grace")
    ada = person_on(browser, pair.b_port, "ada")
    grace.open_room("general")
    ada.open_room("general")
    tag = os.urandom(4).hex()
    ada.send(f"{tag} before the restart")
    expect(grace.page.locator("#messages")).to_contain_text(f"{tag} before the restart")

    assert pair.stop_a() == 0
    # Told "service restart" (1012), the page waits to reconnect instead of giving up.
    expect(grace.page.locator("#connection-status")).to_have_text("Reconnecting…")
    missed = [f"{tag} missed {n}" for n in range(3)]
    for text in missed:
        ada.send(text)
        expect(ada.page.locator("#messages")).to_contain_text(text)
    pair.start_a()

    badge = grace.page.locator("#connection-status")
    expect(badge).to_have_text("Connected", timeout=RECONNECT_MS)
    expect(grace.page.locator("#messages")).to_contain_text(missed[-1])
    ada.send(f"{tag} after the restart")
    expect(grace.page.locator("#messages")).to_contain_text(f"{tag} after the restart")

    shown = [
        text
        for text in grace.page.locator(".message .body").all_inner_texts()
        if text.startswith(tag)
    ]
    assert shown == [f"{tag} before the restart", *missed, f"{tag} after the restart"]
    ids = [
        int(re.sub(r"\D", "", i))
        for i in grace.page.locator(".message").evaluate_all("els => els.map(e => e.id)")
    ]
    assert ids == sorted(set(ids)), "a message shown twice or out of order"
    assert grace.console_errors == []
