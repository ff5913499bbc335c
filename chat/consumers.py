"""The chat parts of the page socket (see realtime.sockets)."""

import time
from collections.abc import Iterable, Mapping
from functools import partial

from channels.db import database_sync_to_async
from django.conf import settings
from django.template.loader import render_to_string

from chat import actions, events, logic, queries
from chat.models import Room
from realtime.logic import people, presence_member
from realtime.presence import get_presence
from realtime.sockets import (
    CLOSE_NOT_FOUND,
    Action,
    Connection,
    Frame,
    Refused,
    socket_error_html,
)


class LobbyPart:
    """Every chat page hears about new rooms, to keep its sidebar current."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def join(self) -> Iterable[str]:
        return [logic.LOBBY_GROUP]

    def actions(self) -> Mapping[str, Action]:
        return {}

    async def ready(self) -> None:
        pass


class RoomPart:
    """On a room page: receive the room's messages, and post to it."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.room: Room | None = None

    async def join(self) -> Iterable[str]:
        slug = self.connection.params.get("room")
        if slug is None:
            return []
        self.room = await database_sync_to_async(queries.room_get)(slug=slug)
        if self.room is None:
            raise Refused(CLOSE_NOT_FOUND, "No such room.")
        return [logic.room_group_name(self.room.id)]

    def actions(self) -> Mapping[str, Action]:
        return {"chat.send": self.send, "chat.resume": self.resume} if self.room else {}

    async def ready(self) -> None:
        pass

    async def send(self, frame: Frame) -> None:
        assert self.room is not None
        try:
            body = logic.clean_body(frame.get("body"), max_length=settings.CHAT_MESSAGE_MAX_LENGTH)
            client_id = logic.parse_client_id(frame.get("client_id"))
            if not send_allowed(self.connection.user.pk):
                raise logic.Invalid(logic.SLOW_DOWN)
        except logic.Invalid as error:
            await self.connection.reply(composer_rejected_html(self.room, frame, str(error)))
            return
        await database_sync_to_async(actions.message_post)(
            room=self.room, author=self.connection.user, body=body, client_id=client_id
        )
        # The acknowledgement: the page stops holding this send for a retry.
        await self.connection.reply(
            render_to_string("chat/room.html#composer-error", {"answered": client_id or ""})
        )

    async def resume(self, frame: Frame) -> None:
        """Send what the page missed since the newest message it shows (after opening or
        reopening the socket). A gap too large to replay refreshes the conversation."""
        assert self.room is not None
        try:
            after_id = logic.parse_cursor(frame.get("after"))
        except logic.Invalid as error:
            await self.connection.reply(socket_error_html(str(error)))
            return
        html = await database_sync_to_async(missed_html)(self.room, after_id)
        if html:
            await self.connection.reply(html)


# One bucket per user in this process, shared by all their tabs here.
send_buckets: dict[int, logic.TokenBucket] = {}
PRUNE_AT = 10_000


def send_allowed(user_id: int) -> bool:
    now = time.monotonic()
    bucket = send_buckets.get(user_id)
    if bucket is None:
        if len(send_buckets) >= PRUNE_AT:
            for idle in [uid for uid, b in send_buckets.items() if b.is_full(now)]:
                del send_buckets[idle]
        bucket = send_buckets[user_id] = logic.TokenBucket.full(
            rate=settings.CHAT_SEND_RATE, burst=settings.CHAT_SEND_BURST, now=now
        )
    return bucket.take(now)


def missed_html(room: Room, after_id: int) -> str:
    missed, more = queries.room_messages_after(
        room_id=room.id, after_id=after_id, limit=settings.CHAT_RESUME_LIMIT
    )
    if more:
        history, has_older = queries.room_messages_before(
            room_id=room.id, before_id=None, limit=settings.CHAT_PAGE_SIZE
        )
        context = {"room": room, "history": history, "has_older": has_older}
        return render_to_string("chat/room.html#refreshed", context)
    if not missed:
        return ""
    return render_to_string("chat/room.html#missed", {"missed": missed})


def composer_rejected_html(room: Room, frame: Frame, error: str) -> str:
    """The composer's error, and the refused text put back so that nothing typed is lost."""
    body = frame.get("body")
    client_id = frame.get("client_id")
    context = {
        "room": room,
        "answered": client_id if isinstance(client_id, str) else "",
        "composer_error": error,
        "composer_body": body if isinstance(body, str) else "",
        "max_length": settings.CHAT_MESSAGE_MAX_LENGTH,
    }
    return render_to_string("chat/room.html#composer-error", context) + render_to_string(
        "chat/room.html#composer-body", {**context, "oob": True}
    )


class RoomPresencePart:
    """On a room page: who has the room open, and who is typing.

    Presence is kept for sockets that say which page they are on (`path`), as the browser's
    pages do; a bare client of the socket protocol is not "in the room" for others to see.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.room: Room | None = None
        self.member = presence_member(connection.user.pk, connection.socket_id)

    async def join(self) -> Iterable[str]:
        # The room's group is RoomPart's, which also refuses unknown rooms.
        slug = self.connection.params.get("room")
        if slug is not None:
            self.room = await database_sync_to_async(queries.room_get)(slug=slug)
        return []

    def actions(self) -> Mapping[str, Action]:
        return {"chat.typing": self.typing} if self.room else {}

    async def ready(self) -> None:
        if self.room is None or "path" not in self.connection.params:
            return
        space = logic.room_space(self.room.id)
        presence = get_presence()
        await presence.enter(
            space, self.member, announce=partial(announce_room_presence, self.room.id)
        )
        self.connection.on_close(self.leave)
        people_here = await presence.people(space)
        html = await database_sync_to_async(events.room_presence_html)(self.room.id, people_here)
        await self.connection.reply(html)

    async def leave(self) -> None:
        assert self.room is not None
        await get_presence().leave(logic.room_space(self.room.id), self.member)

    async def typing(self, frame: Frame) -> None:
        """Dropped without a word when too soon: the page sends them freely while typing."""
        assert self.room is not None
        if typing_allowed(self.connection.user.pk, self.room.id):
            await events.typing_started(self.room.id, self.connection.user)


async def announce_room_presence(room_id: int, space: str, members: list[str]) -> None:
    await events.room_presence_changed(room_id, people(members))


# When each person last reached each room with a typing signal, in this process.
typing_sent: dict[tuple[int, int], float] = {}


def typing_allowed(user_id: int, room_id: int) -> bool:
    now = time.monotonic()
    every = settings.CHAT_TYPING_THROTTLE
    key = (user_id, room_id)
    if not logic.typing_due(last=typing_sent.get(key), now=now, every=every):
        return False
    if len(typing_sent) >= PRUNE_AT:
        for stale in [k for k, sent in typing_sent.items() if now - sent >= every]:
            del typing_sent[stale]
    typing_sent[key] = now
    return True
