"""The chat parts of the page socket (see realtime.sockets)."""

import time
from collections.abc import Iterable, Mapping

from channels.db import database_sync_to_async
from django.conf import settings
from django.template.loader import render_to_string

from chat import actions, events, logic, queries
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


ROOMS_PAGE = "rooms"


class UnreadPart:
    """Pages with the room list: the unread count beside each room the viewer follows.

    The page joins the activity group of every room its viewer follows (can read and has
    opened), except the room it shows, whose messages arrive anyway. A message sends each
    activity group one fragment, the same for every follower; the page counts it against its
    own viewer's cursor. Read cursors move when a visible room page says so (`chat.read`),
    and their changes go to the reader's own group, so the counts clear in all their tabs.
    Following only opened rooms keeps a busy site's activity away from people who never
    looked at those rooms.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.user = connection.user
        self.shows_rooms = (
            "room" in connection.params or connection.params.get("page") == ROOMS_PAGE
        )

    async def join(self) -> Iterable[str]:
        if not self.shows_rooms:
            return []
        room_ids = await database_sync_to_async(self.readable_room_ids)()
        return [logic.reader_group_name(self.user.pk)] + [
            logic.room_activity_group_name(room_id) for room_id in room_ids
        ]

    def readable_room_ids(self) -> list[int]:
        rooms = queries.rooms_followed_by(user=self.user)
        shown = self.connection.params.get("room")
        if shown is not None:
            rooms = rooms.exclude(slug=shown)
        return list(rooms.values_list("pk", flat=True))

    def actions(self) -> Mapping[str, Action]:
        return {"chat.read": self.read} if "room" in self.connection.params else {}

    async def ready(self) -> None:
        # A tab that reconnects may have missed pushes: send the current counts.
        if self.shows_rooms:
            html = await database_sync_to_async(self.badges_html)()
            if html:
                await self.connection.reply(html)

    def badges_html(self) -> str:
        states = queries.unread_states_for(user=self.user).values()
        return "".join(events.unread_badge_html(state, oob=True) for state in states)

    async def read(self, frame: Frame) -> None:
        try:
            room_id = logic.parse_id(frame.get("room"), field="room", noun="room")
            up_to = logic.parse_id(frame.get("up_to"), field="up_to")
        except logic.Invalid as error:
            await self.connection.reply(socket_error_html(str(error)))
            return
        if not await database_sync_to_async(self.mark_read)(room_id, up_to):
            await self.connection.reply(socket_error_html("No such room."))

    def mark_read(self, room_id: int, up_to: int) -> bool:
        room = queries.rooms_readable_by(user=self.user).filter(pk=room_id).first()
        if room is None:
            return False
        actions.room_mark_read(user=self.user, room=room, up_to=up_to)
        return True


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
