"""Notifications across two Daphne processes that share PostgreSQL and the Redis channel layer.

Every socket's first frame is the bell's current state; these tests read the unread count
from it, since the database lasts the whole session and other tests notify people too.
"""

import asyncio
import contextlib
import html
import http.client
import re
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http.cookies import SimpleCookie

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.integration.conftest import Server, Topology
from tests.integration.test_chat_topology import (
    chat_send,
    containing,
    receive_for,
    receive_until,
)
from tests.servers import DEMO_PASSWORD, LOCALHOST, MAKE_STAFF, STAFF, manage, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

TIMEOUT = 10.0
ANNOUNCE_PATH = "/notifications/announce/"

UNREAD = re.compile(r'<a id="bell"[^>]*data-count="(\d+)"')
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')
TOAST = re.compile(r'<div id="toast-(\d+)" class="toast"')
INBOX_ITEM = re.compile(r'<li id="notification-(\d+)" class="notification is-unread"')
TOAST_PUSH = 'hx-swap-oob="afterbegin:#toasts"'
ITEM_PUSH = 'hx-swap-oob="afterbegin:#notification-items"'


@pytest.fixture(scope="module")
def staff(production_env: dict[str, str], topology: Topology) -> tuple[int, str]:
    """A staff member who may announce: their user id and a session valid on both servers."""
    user_id = int(manage(production_env, "shell", "-c", MAKE_STAFF).split()[-1])
    return user_id, sign_in(topology.a.origin, STAFF, DEMO_PASSWORD)


@contextlib.asynccontextmanager
async def tab(server: Server, *, session: str, **params: str) -> AsyncIterator[ClientConnection]:
    """A page's socket, e.g. `tab(b, session=..., page="inbox")`, opened past its catch-up."""
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    async with connect(
        f"{server.socket_base}/ws/{query}",
        additional_headers={"Origin": server.origin, "Cookie": f"sessionid={session}"},
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
    ) as socket:
        yield socket


async def catch_up(socket: ClientConnection) -> tuple[int, str]:
    """The first frame, which every socket receives: the unread count and the frame."""
    async with asyncio.timeout(TIMEOUT):
        frame = await socket.recv(decode=True)
    match = UNREAD.search(frame)
    assert match, f"the first frame is not the bell: {frame!r}"
    return int(match.group(1)), frame


def unique_text() -> tuple[str, str]:
    """Text with markup in it, and how it must appear in a pushed fragment."""
    text = f"<b>{uuid.uuid4().hex}</b> & co"
    return text, html.escape(text, quote=False)


def request(
    server: Server,
    method: str,
    path: str,
    *,
    cookies: dict[str, str],
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, http.client.HTTPMessage, str]:
    connection = http.client.HTTPConnection(LOCALHOST, server.port, timeout=TIMEOUT)
    sent = {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
    sent |= headers or {}
    body = None
    if form is not None:
        sent |= {"Content-Type": "application/x-www-form-urlencoded", "Referer": server.origin}
        body = urllib.parse.urlencode(form)
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode()
    finally:
        connection.close()


@dataclass(frozen=True)
class Visitor:
    """A signed-in browser making plain HTTP requests: its cookies and the page's CSRF token."""

    server: Server
    cookies: dict[str, str]
    csrf_token: str

    @classmethod
    def on(cls, server: Server, path: str, *, session: str) -> "Visitor":
        status, headers, page = request(server, "GET", path, cookies={"sessionid": session})
        assert status == 200, f"GET {path} answered {status}"
        token = CSRF_FIELD.search(page) or CSRF_HEADER.search(page)
        assert token, f"{path} has no CSRF token"
        cookies = SimpleCookie()
        for header in headers.get_all("Set-Cookie") or []:
            cookies.load(header)
        jar = {"sessionid": session} | {name: morsel.value for name, morsel in cookies.items()}
        return cls(server=server, cookies=jar, csrf_token=token.group(1))

    def submit(self, path: str, fields: dict[str, str]) -> int:
        """A form's POST, the token in the form; returns the status."""
        form = {**fields, "csrfmiddlewaretoken": self.csrf_token}
        status, _, _ = request(self.server, "POST", path, cookies=self.cookies, form=form)
        return status

    def htmx_post(self, path: str) -> int:
        """An hx-post, the token in the header htmx takes from <body hx-headers>."""
        headers = {"X-CSRFToken": self.csrf_token, "HX-Request": "true"}
        status, _, _ = request(
            self.server, "POST", path, cookies=self.cookies, form={}, headers=headers
        )
        return status


def publish(server: Server, *, session: str, body: str) -> int:
    return Visitor.on(server, ANNOUNCE_PATH, session=session).submit(ANNOUNCE_PATH, {"body": body})


def mark_all_read(server: Server, *, session: str) -> int:
    visitor = Visitor.on(server, "/notifications/", session=session)
    return visitor.htmx_post("/notifications/read-all/")


async def test_a_mention_through_one_process_notifies_only_the_mentioned_on_the_other(
    topology: Topology,
) -> None:
    text, escaped = unique_text()
    sessions = topology.sessions
    async with (
        tab(topology.a, session=sessions["ada"], room="general") as author,
        # In another room, so that the only frame with the text in it is the notification.
        tab(topology.b, session=sessions["grace"], room="random") as grace,
        tab(topology.b, session=sessions["grace"], page="inbox") as grace_inbox,
        tab(topology.b, session=sessions["linus"]) as bystander,
    ):
        unread, _ = await catch_up(grace)
        _, listing = await catch_up(grace_inbox)
        assert 'id="notification-list"' in listing, "the inbox socket's catch-up has no list"
        for socket in (author, bystander):
            await catch_up(socket)

        await author.send(chat_send(f"hi @grace {text}", uuid.uuid4()))

        pushed = await receive_until(grace, containing(escaped), what="bell and toast on B")
        listed = await receive_until(
            grace_inbox,
            lambda frames: containing(TOAST_PUSH)(frames) and containing(ITEM_PUSH)(frames),
            what="bell, toast and list item on B",
        )
        heard_by_others = await asyncio.gather(receive_for(bystander), receive_for(author))

    push = pushed[-1]
    assert text not in push, "the excerpt was pushed unescaped"
    assert UNREAD.findall(push) == [str(unread + 1)]
    assert TOAST_PUSH in push
    assert "<strong>ada</strong> mentioned you" in push
    (toast_id,) = TOAST.findall(push)
    (item,) = [frame for frame in listed if ITEM_PUSH in frame]
    assert INBOX_ITEM.findall(item) == [toast_id]
    assert escaped in item
    bystander_frames, author_frames = heard_by_others
    assert bystander_frames == []
    assert not [frame for frame in author_frames if 'id="bell"' in frame or TOAST_PUSH in frame]


async def test_an_announcement_posted_to_one_process_reaches_sockets_on_both(
    topology: Topology, staff: tuple[int, str]
) -> None:
    staff_id, staff_session = staff
    text, escaped = unique_text()
    sessions = topology.sessions
    async with (
        tab(topology.a, session=sessions["grace"]) as on_a,
        tab(topology.b, session=sessions["linus"], room="general") as on_b,
        tab(topology.b, session=sessions["ada"], page="inbox") as inbox_on_b,
        tab(topology.b, session=staff_session) as author_on_b,
    ):
        unread_before = {}
        for name, socket in [("grace", on_a), ("linus", on_b), ("ada", inbox_on_b)]:
            unread_before[name], _ = await catch_up(socket)
        await catch_up(author_on_b)

        status = await asyncio.to_thread(publish, topology.a, session=staff_session, body=text)
        assert status == 302, f"publishing answered {status}"

        banners = {
            name: await receive_until(socket, containing(escaped), what=f"banner for {name}")
            for name, socket in [("grace", on_a), ("linus", on_b), ("author", author_on_b)]
        }
        inbox = await receive_until(
            inbox_on_b,
            lambda frames: (
                containing('id="announcement-banner"')(frames) and containing(ITEM_PUSH)(frames)
            ),
            what="banner and list item for ada's inbox on B",
        )

    # One push for everyone: it skips the author's tabs in the browser (data-not-for) and
    # counts one more on everyone else's badge (data-bump-bell).
    for frames in [*banners.values(), inbox]:
        (banner,) = [frame for frame in frames if 'id="announcement-banner"' in frame]
        assert 'hx-swap-oob="true"' in banner
        assert f'data-not-for="{staff_id}"' in banner
        assert "data-bump-bell" in banner
        assert escaped in banner
        assert text not in banner, "the announcement was pushed unescaped"
    (item,) = [frame for frame in inbox if ITEM_PUSH in frame]
    assert re.search(rf'<li id="announcement-\d+" [^>]*data-not-for="{staff_id}"', item)
    assert escaped in item

    # Stored before it was pushed: a socket opened now, on either process, counts it.
    for server, name in [(topology.b, "grace"), (topology.a, "linus"), (topology.a, "ada")]:
        async with tab(server, session=sessions[name]) as later:
            unread_now, _ = await catch_up(later)
        assert unread_now == unread_before[name] + 1, name


async def test_marking_all_read_through_one_process_clears_the_badge_on_the_other(
    topology: Topology,
) -> None:
    text, escaped = unique_text()
    sessions = topology.sessions
    async with (
        tab(topology.a, session=sessions["linus"], room="general") as author,
        tab(topology.b, session=sessions["grace"]) as grace,
    ):
        await catch_up(author)
        await catch_up(grace)
        await author.send(chat_send(f"@grace {text}", uuid.uuid4()))
        await receive_until(grace, containing(escaped), what="the mention on B")

        status = await asyncio.to_thread(mark_all_read, topology.a, session=sessions["grace"])
        assert status == 200, f"marking all read answered {status}"

        cleared = await receive_until(
            grace, containing('data-count="0"'), what="the cleared badge on B"
        )
    assert 'class="badge" hidden' in cleared[-1]
