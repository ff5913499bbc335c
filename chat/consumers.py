"""The chat parts of the page socket (see realtime.sockets)."""

import time
from collections.abc import Iterable, Mapping

from channels.db import database_sync_to_async
from django.conf import settings
from django.template.loader import render_to_string

from chat import actions, logic, queries
from chat.models import Room
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


class TaskResultsPart:
    """A page that shows something a task is still working on (a preview, a thumbnail, an
    export) asks for its current state once its socket is open: a result pushed before the
    socket joined, or while it was down, is not missed."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def join(self) -> Iterable[str]:
        return []

    def actions(self) -> Mapping[str, Action]:
        return {"tasks.refresh": self.refresh}

    async def ready(self) -> None:
        pass

    async def refresh(self, frame: Frame) -> None:
        try:
            message_ids = logic.parse_ids(frame.get("messages"))
            export_ids = logic.parse_ids(frame.get("exports"))
        except logic.Invalid as error:
            await self.connection.reply(socket_error_html(str(error)))
            return
        html = await database_sync_to_async(task_results_html)(
            self.connection.params.get("room"), message_ids, export_ids, self.connection.user.pk
        )
        if html:
            await self.connection.reply(html)


def task_results_html(
    room_slug: str | None, message_ids: list[int], export_ids: list[int], user_id: int
) -> str:
    previews, attachments, exports = queries.task_results_for(
        room_slug=room_slug, message_ids=message_ids, export_ids=export_ids, user_id=user_id
    )
    parts = [
        render_to_string("chat/room.html#link-preview", {"preview": preview, "oob": True})
        for preview in previews
    ]
    parts += [
        render_to_string("chat/room.html#attachment", {"attachment": attachment, "oob": True})
        for attachment in attachments
    ]
    parts += [
        render_to_string("chat/exports.html#export", {"export": export, "oob": True})
        for export in exports
    ]
    return "".join(parts)
