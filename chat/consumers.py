"""The chat parts of the page socket (see realtime.sockets)."""

import logging
import time
from collections.abc import Iterable, Mapping

from channels.db import database_sync_to_async
from django.conf import settings
from django.template.loader import render_to_string

from chat import actions, logic, queries
from chat.models import Room
from realtime.limits import BucketMap
from realtime.sockets import (
    CLOSE_NOT_FOUND,
    DATABASE_DOWN,
    Action,
    Connection,
    Frame,
    Refused,
    socket_error_html,
)

logger = logging.getLogger(__name__)

NOT_SAVED = "Your message was not saved: the database is unavailable. Try again in a moment."


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
        try:
            await database_sync_to_async(actions.message_post)(
                room=self.room, author=self.connection.user, body=body, client_id=client_id
            )
        except DATABASE_DOWN:
            logger.warning("Could not save a message", exc_info=True)
            await self.connection.reply(composer_rejected_html(self.room, frame, NOT_SAVED))
            return
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
send_buckets = BucketMap(capacity=10_000)


def send_allowed(user_id: int) -> bool:
    return send_buckets.take(
        str(user_id),
        rate=settings.CHAT_SEND_RATE,
        burst=settings.CHAT_SEND_BURST,
        now=time.monotonic(),
    )


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
