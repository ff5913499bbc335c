"""The page socket: one WebSocket per browser tab, composed of small parts.

A page opens one socket (`ws-connect` on <body>) whose query string says what the page shows,
e.g. `/ws/?room=general`. Each *part* looks at that and answers which groups to join and which
frame actions it handles: the viewer's personal group, the room's group, and so on. The
consumer itself only authenticates, joins, routes frames to parts, and relays pushed HTML.
"""

import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode

from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth.models import AnonymousUser, User
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

# Close codes (4000-4999 are for applications). htmx's ws extension reconnects only after
# 1006/1011/1012/1013, so a refusal is final for that page and does not loop.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404

SOCKET_PATH = "/ws/"

Frame = Mapping[str, Any]
Action = Callable[[Frame], Awaitable[None]]


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Connection:
    """What a part may know about, and do with, the socket it belongs to."""

    user: User
    params: Mapping[str, str]
    reply: Callable[[str], Awaitable[None]]


class Part(Protocol):
    async def join(self) -> Iterable[str]:
        """The groups this part needs; raise Refused to refuse the whole socket."""
        ...

    def actions(self) -> Mapping[str, Action]:
        """Frame handlers by the frame's `action` field."""
        ...

    async def ready(self) -> None:
        """Called once the socket is open: send what the page may have missed."""
        ...


PartFactory = Callable[[Connection], Part]


def socket_url(**params: str) -> str:
    return f"{SOCKET_PATH}?{urlencode(params)}" if params else SOCKET_PATH


def socket_params(query_string: bytes) -> dict[str, str]:
    return dict(parse_qsl(query_string.decode("latin-1")))


def decode_frame(text: str | None) -> Frame | str:
    """The frame as a mapping with a string `action`, or an error message for the sender."""
    if text is None:
        return "Binary frames are not supported."
    try:
        frame = json.loads(text)
    except ValueError:
        return "That frame was not valid JSON."
    if not isinstance(frame, dict):
        return "A frame must be a JSON object."
    if not isinstance(frame.get("action"), str):
        return "A frame needs an “action” field."
    return frame


def socket_error_html(message: str) -> str:
    return render_to_string("frontend/base.html#socket-error", {"socket_error": message})


class PageConsumer(AsyncWebsocketConsumer):
    def __init__(self, parts: Sequence[PartFactory] = ()) -> None:
        super().__init__()
        self.parts = parts

    async def connect(self) -> None:
        self.handlers: Mapping[str, Action] = {}
        user: User | AnonymousUser = self.scope.get("user") or AnonymousUser()
        if not user.is_authenticated:
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED, reason="Sign in to connect.")
            return
        connection = Connection(
            user=user,
            params=socket_params(self.scope.get("query_string", b"")),
            reply=self.send_html,
        )
        parts = [make_part(connection) for make_part in self.parts]
        joined: list[str] = []
        handlers: dict[str, Action] = {}
        try:
            for part in parts:
                joined.extend(await part.join())
                handlers.update(part.actions())
        except Refused as refusal:
            await self.accept()
            await self.close(code=refusal.code, reason=refusal.reason)
            return
        for group in joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups = joined
        self.handlers = handlers
        await self.accept()
        for part in parts:
            await part.ready()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = decode_frame(text_data)
        if isinstance(frame, str):
            await self.send_html(socket_error_html(frame))
            return
        handler = self.handlers.get(frame["action"])
        if handler is None:
            await self.send_html(socket_error_html(f"Unknown action “{frame['action']}”."))
            return
        await handler(frame)

    async def html_push(self, event: dict[str, str]) -> None:
        await self.send(text_data=event["html"])

    async def send_html(self, html: str) -> None:
        await self.send(text_data=html)
