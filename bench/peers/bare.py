"""A bare ASGI broadcast app, served by Daphne: the server's own ceiling.

Rooms live in this process; a received message is encoded once and sent to every local
member of the room. No Django, no channel layer, no per-member dispatch.

    daphne -b 127.0.0.1 -p 8001 bench.peers.bare:application
"""

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]

rooms: defaultdict[str, set[Send]] = defaultdict(set)


def room_of(query_string: bytes) -> str:
    return parse_qs(query_string.decode("latin-1")).get("room", [""])[0]


async def application(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    if scope["type"] != "websocket":
        return
    first = await receive()
    if first["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    room = room_of(scope.get("query_string", b""))
    members = rooms[room]
    members.add(send)
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if message["type"] != "websocket.receive" or text is None:
                continue
            frame = {"type": "websocket.send", "text": json.dumps(json.loads(text))}
            for member in list(members):
                await member(frame)
    finally:
        members.discard(send)
        if not members:
            rooms.pop(room, None)
