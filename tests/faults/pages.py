"""A page's socket, as app.js drives it: resume from the newest message shown on every open
(reporting the newest ids it shows, so that holes between them are filled too), and keep
every message that arrives, to check for gaps, duplicates and order.

Within one connection a message can arrive twice, live and in the replay that answers
`chat.resume`; the page shows it once (pushes.js skips an id it already has), and so does this.
Across connections nothing may arrive again: the cursor must hold.
"""

import asyncio
import contextlib
import json
import re
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from chat.logic import RESUME_SHOWN_LIMIT
from tests.integration.conftest import Server

TIMEOUT = 15.0
# A message: its id and its body (an attachment or a link preview may follow the body).
ARTICLE = re.compile(
    r'<article id="message-(\d+)".*?<div class="body"[^>]*>(.*?)</div>.*?</article>', re.DOTALL
)
ACKNOWLEDGED = re.compile(r'<p id="composer-error"[^>]*data-answered="([0-9a-f-]+)"[^>]*>\s*</p>')


@dataclass
class Page:
    """One tab in one room, signed in with `session`."""

    session: str
    room: str = "general"
    path: str | None = None  # the page's path, for its counters, as a room page sends it
    arrived: list[tuple[int, str, int]] = field(default_factory=list)  # (id, body, connection)
    frames: list[str] = field(default_factory=list)
    socket: ClientConnection | None = None
    connections: int = 0
    upstream: str | None = None  # the server behind a proxy that says (X-Upstream)

    @property
    def cursor(self) -> int:
        return max((message_id for message_id, _, _ in self.arrived), default=0)

    @property
    def shown(self) -> dict[int, str]:
        """What the page shows: each message once, in id order."""
        return dict(sorted((message_id, body) for message_id, body, _ in self.arrived))

    def newest_shown(self) -> list[int]:
        """What the page reports when it resumes (messages.js): the ids of the newest it shows."""
        return sorted(self.shown)[-RESUME_SHOWN_LIMIT:]

    def arrived_again(self) -> list[int]:
        """Ids that arrived on a later connection than the one that first brought them."""
        first: dict[int, int] = {}
        again = []
        for message_id, _, connection in self.arrived:
            if first.setdefault(message_id, connection) != connection:
                again.append(message_id)
        return again

    async def open(self, server: Server, *, resume: bool = True) -> None:
        query = {"room": self.room} if self.path is None else {"room": self.room, "path": self.path}
        self.socket = await connect(
            f"{server.socket_base}/ws/?{urllib.parse.urlencode(query)}",
            additional_headers={"Origin": server.origin, "Cookie": f"sessionid={self.session}"},
            open_timeout=TIMEOUT,
            close_timeout=5,
        )
        self.connections += 1
        assert self.socket.response is not None
        self.upstream = self.socket.response.headers.get("X-Upstream")
        if resume:
            await self.send(
                {"action": "chat.resume", "after": self.cursor, "have": self.newest_shown()}
            )

    async def send(self, frame: dict[str, object]) -> None:
        assert self.socket is not None
        await self.socket.send(json.dumps(frame))

    async def post(self, body: str) -> str:
        client_id = str(uuid.uuid4())
        await self.send({"action": "chat.send", "body": body, "client_id": client_id})
        return client_id

    def take(self, frame: str) -> None:
        self.frames.append(frame)
        for match in ARTICLE.finditer(frame):
            self.arrived.append((int(match.group(1)), match.group(2).strip(), self.connections))

    async def receive_until(self, done: "Done", *, what: str) -> None:
        assert self.socket is not None
        try:
            async with asyncio.timeout(TIMEOUT):
                while not done(self):
                    self.take(await self.socket.recv(decode=True))
        except TimeoutError:
            raise AssertionError(
                f"no {what} within {TIMEOUT} s; last frames: {self.frames[-5:]!r}"
            ) from None

    async def closed_with(self) -> int | None:
        """Read until the server closes the socket; its close code."""
        assert self.socket is not None
        with contextlib.suppress(ConnectionClosed):
            async with asyncio.timeout(TIMEOUT):
                while True:
                    self.take(await self.socket.recv(decode=True))
        rcvd = self.socket.protocol.close_rcvd  # None when the TCP connection just dropped
        return rcvd.code if rcvd is not None else None

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
            self.socket = None

    def bodies_with(self, token: str) -> list[str]:
        """The shown messages containing `token`, in order."""
        return [body for body in self.shown.values() if token in body]

    def acknowledged(self, client_id: str) -> bool:
        return any(client_id in m.group(1) for f in self.frames for m in ACKNOWLEDGED.finditer(f))


def has_bodies(token: str, count: int) -> "Done":
    return lambda page: len(page.bodies_with(token)) >= count


def has_acknowledgement(client_id: str) -> "Done":
    return lambda page: page.acknowledged(client_id)


def has_text(text: str) -> "Done":
    return lambda page: any(text in frame for frame in page.frames)


Done = Callable[[Page], bool]
