"""The chat parts of the page socket (see realtime.sockets)."""

import logging
import time
from collections.abc import Iterable, Mapping
from functools import partial

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import User

from chat import events, logic
from chat.actions import unread as unread_actions
from chat.actions.batching import message_post_batched
from chat.attachments import queries as attachment_queries
from chat.exports import queries as export_queries
from chat.limits import send_allowed
from chat.logic import ROOMS_PAGE
from chat.models import Room
from chat.previews import queries as preview_queries
from chat.queries import rooms as room_queries
from chat.queries import unread as unread_queries
from chat.reactions import actions as reactions
from realtime.budgets import costs
from realtime.limits import BucketMap
from realtime.logic import people as people_in
from realtime.logic import presence_member
from realtime.presence import get_presence
from realtime.sockets.closes import CLOSE_NOT_FOUND, DATABASE_DOWN, socket_error_html
from realtime.sockets.parts import NOTHING_MISSED, Action, CatchUp, Connection, Frame, Part, Refused
from realtime.validation import Invalid, parse_cursor, parse_id, parse_ids, parse_optional_cursor

logger = logging.getLogger(__name__)

NOT_SAVED = "Your message was not saved: the database is unavailable. Try again in a moment."


class LobbyPart(Part):
    """Every chat page hears about new rooms, to keep its sidebar current."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def load(self) -> Iterable[str]:
        return [logic.LOBBY_GROUP]


def shown_room(connection: Connection) -> Room | None:
    """The room the page shows (`?room=<slug>`), if its viewer may read it. Read once per
    socket, in its first database call, and shared by the parts that need it."""
    slug = connection.params.get("room")
    if slug is None:
        return None
    if "chat.room" not in connection.shared:
        connection.shared["chat.room"] = room_queries.room_readable(user=connection.user, slug=slug)
    room = connection.shared["chat.room"]
    assert room is None or isinstance(room, Room)
    return room


class RoomPart(Part):
    """On a room page: receive the room's messages, and post to it.

    Only a reader of the room joins its group. A private room the viewer may not read is
    refused exactly like a missing one (4404), so the refusal tells nothing about it.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.room: Room | None = None

    def load(self) -> Iterable[str]:
        if "room" not in self.connection.params:
            return []
        self.room = shown_room(self.connection)
        if self.room is None:
            raise Refused(CLOSE_NOT_FOUND, "No such room.")
        return [logic.room_group_name(self.room.id)]

    def actions(self) -> Mapping[str, Action]:
        if self.room is None:
            return {}
        return {"chat.send": self.send, "chat.resume": self.resume, "reactions.toggle": self.react}

    def catch_up(self) -> CatchUp:
        # Access may have ended between the check in load() and joining the group, when the
        # push that evicts this socket could not reach it yet.
        if self.room is None or self.room.is_public:
            return NOTHING_MISSED
        if room_queries.room_is_readable(user=self.connection.user, room_id=self.room.id):
            return NOTHING_MISSED
        return CatchUp(
            html=events.access_ended_html(self.room), leave=[logic.room_group_name(self.room.id)]
        )

    async def readable(self) -> bool:
        assert self.room is not None
        readable: bool = await database_sync_to_async(room_queries.room_is_readable)(
            user=self.connection.user, room_id=self.room.id
        )
        return readable

    async def lose_access(self) -> None:
        assert self.room is not None
        await self.connection.leave(logic.room_group_name(self.room.id))
        await self.connection.reply(events.access_ended_html(self.room))

    async def send(self, frame: Frame) -> None:
        assert self.room is not None
        try:
            body = logic.clean_body(frame.get("body"), max_length=settings.CHAT_MESSAGE_MAX_LENGTH)
            client_id = logic.parse_client_id(frame.get("client_id"))
            if not send_allowed(self.connection.user.pk):
                raise Invalid(logic.SLOW_DOWN)
        except Invalid as error:
            await self.connection.reply(events.composer_rejected_html(self.room, frame, str(error)))
            return
        try:
            await message_post_batched(
                room=self.room, author=self.connection.user, body=body, client_id=client_id
            )
        except Invalid as error:
            await self.connection.reply(events.composer_rejected_html(self.room, frame, str(error)))
            return
        except DATABASE_DOWN:
            logger.warning("Could not save a message", exc_info=True)
            await self.connection.reply(events.composer_rejected_html(self.room, frame, NOT_SAVED))
            return
        # The acknowledgement: the page stops holding this send for a retry.
        await self.connection.reply(events.composer_answered_html(client_id))

    # A toggle writes and pushes: it spends as much of the sender's frame budget as ten frames,
    # so that a flood of them is refused (realtime.budgets) long before it floods the room.
    @costs("frame", reactions.TOGGLE_COST)
    async def react(self, frame: Frame) -> None:
        """chat.reactions: pick or unpick an emoji on a message of this room."""
        assert self.room is not None
        try:
            message_id = parse_id(frame.get("message"), field="message")
            await database_sync_to_async(reactions.reaction_toggle)(
                user=self.connection.user,
                room_id=self.room.id,
                message_id=message_id,
                emoji=frame.get("emoji"),
            )
        except Invalid as error:
            await self.connection.reply(socket_error_html(str(error)))

    @costs("resume")
    async def resume(self, frame: Frame) -> None:
        """Send what the page missed since the newest message it shows (after opening or
        reopening the socket). A gap too large to replay refreshes the conversation."""
        assert self.room is not None
        try:
            after_id = parse_cursor(frame.get("after"))
            changes_after = parse_optional_cursor(frame.get("changes_after"), name="changes_after")
            shown_ids = logic.parse_shown_ids(frame.get("have"))
        except Invalid as error:
            await self.connection.reply(socket_error_html(str(error)))
            return
        if not self.room.is_public and not await self.readable():
            await self.lose_access()
            return
        html = await database_sync_to_async(events.missed_html)(
            self.room, after_id, changes_after, self.connection.user.pk, shown_ids
        )
        if html:
            await self.connection.reply(html)


class UnreadPart(Part):
    """Pages with the room list: the unread count beside each room the viewer follows.

    The page joins the activity group of every room its viewer follows (can read and has
    opened), except the room it shows, whose messages arrive anyway. A message sends each
    activity group one fragment, the same for every follower; the page counts it against its
    own viewer's cursor. Read cursors move when a visible room page says so (`chat.read`),
    and their changes go to the reader's own group, so the counts clear in all their tabs.
    Following only opened rooms keeps a busy site's activity away from people who never
    looked at those rooms.

    Only readers join a room's activity group: a private room's activity reaches its members
    alone, and a member who leaves or is removed leaves the group with the room's own group
    (chat.events.access_ended).
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.user = connection.user
        self.shows_rooms = (
            "room" in connection.params or connection.params.get("page") == ROOMS_PAGE
        )
        self.following: list[int] = []

    def load(self) -> Iterable[str]:
        if not self.shows_rooms:
            return []
        self.following = followed_room_ids(self.user, shown=self.connection.params.get("room"))
        return [logic.reader_group_name(self.user.pk)] + [
            logic.room_activity_group_name(room_id) for room_id in self.following
        ]

    def actions(self) -> Mapping[str, Action]:
        return {"chat.read": self.read} if "room" in self.connection.params else {}

    def catch_up(self) -> CatchUp:
        # A tab that reconnects may have missed pushes: send the current counts.
        if not self.shows_rooms:
            return NOTHING_MISSED
        states = unread_queries.unread_states_for(user=self.user)
        # Access may have ended between the check in load() and joining the groups, when the
        # push that makes this socket leave could not reach it yet.
        return CatchUp(
            html="".join(events.unread_badge_html(state, oob=True) for state in states.values()),
            leave=[
                logic.room_activity_group_name(room_id)
                for room_id in self.following
                if room_id not in states
            ],
        )

    @costs("read")
    async def read(self, frame: Frame) -> None:
        try:
            room_id = parse_id(frame.get("room"), field="room", noun="room")
            up_to = parse_id(frame.get("up_to"), field="up_to")
        except Invalid as error:
            await self.connection.reply(socket_error_html(str(error)))
            return
        if not await database_sync_to_async(mark_read)(self.user, room_id, up_to):
            await self.connection.reply(socket_error_html("No such room."))


def followed_room_ids(user: User, *, shown: str | None) -> list[int]:
    """The rooms whose activity a page of `user` hears: those they follow but the one shown."""
    return unread_queries.room_ids_followed_by(user=user, except_slug=shown or "")


def mark_read(user: User, room_id: int, up_to: int) -> bool:
    """Move `user`'s cursor in the room; False if they may not read it (or it is gone)."""
    room = room_queries.room_readable_by_id(user=user, room_id=room_id)
    if room is None:
        return False
    unread_actions.room_mark_read(user=user, room=room, up_to=up_to)
    return True


class RoomPresencePart(Part):
    """On a room page: who has the room open, and who is typing.

    Presence is kept for sockets that say which page they are on (`path`), as the browser's
    pages do; a bare client of the socket protocol is not "in the room" for others to see.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.room: Room | None = None
        self.member = presence_member(connection.user.pk, connection.socket_id)
        self.people_here: list[int] | None = None

    def load(self) -> Iterable[str]:
        # The room's group is RoomPart's, which also refuses rooms the user may not read.
        self.room = shown_room(self.connection)
        return []

    def actions(self) -> Mapping[str, Action]:
        return {"chat.typing": self.typing} if self.room else {}

    async def enter(self) -> None:
        if self.room is None or "path" not in self.connection.params:
            return
        space = logic.room_space(self.room.id)
        presence = get_presence()
        await presence.enter(
            space, self.member, announce=partial(announce_room_presence, self.room.id)
        )
        self.connection.on_close(self.leave)
        self.people_here = await presence.people_entering(space, self.connection.user.pk)

    def catch_up(self) -> CatchUp:
        if self.room is None or self.people_here is None:
            return NOTHING_MISSED
        return CatchUp(html=events.room_presence_html(self.room.id, self.people_here))

    async def leave(self) -> None:
        assert self.room is not None
        await get_presence().leave(logic.room_space(self.room.id), self.member)

    async def typing(self, frame: Frame) -> None:
        """Dropped without a word when too soon: the page sends them freely while typing."""
        assert self.room is not None
        if typing_allowed(self.connection.user.pk, self.room.id):
            await events.typing_started(self.room.id, self.connection.user)


async def announce_room_presence(room_id: int, space: str, members: list[str]) -> None:
    await events.room_presence_changed(room_id, people_in(members))


# Each person's typing signals per room, in this process: one per CHAT_TYPING_THROTTLE.
typing_buckets = BucketMap(capacity=10_000)


def typing_allowed(user_id: int, room_id: int) -> bool:
    return typing_buckets.take(
        f"{user_id}:{room_id}",
        rate=1 / settings.CHAT_TYPING_THROTTLE,
        burst=1,
        now=time.monotonic(),
    )


class TaskResultsPart(Part):
    """A page that shows something a task is still working on (a preview, a thumbnail, an
    export) asks for its current state once its socket is open: a result pushed before the
    socket joined, or while it was down, is not missed.

    Each answer is read through the room's readability check at the time of asking: a socket
    whose viewer may not (or no longer) read the room gets nothing, as if nothing existed.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def actions(self) -> Mapping[str, Action]:
        return {"tasks.refresh": self.refresh}

    @costs("refresh")
    async def refresh(self, frame: Frame) -> None:
        try:
            message_ids = parse_ids(frame.get("messages"))
            export_ids = parse_ids(frame.get("exports"))
        except Invalid as error:
            await self.connection.reply(socket_error_html(str(error)))
            return
        html = await database_sync_to_async(task_results_html)(
            self.connection.user, self.connection.params.get("room"), message_ids, export_ids
        )
        if html:
            await self.connection.reply(html)


def task_results_html(
    user: User, room_slug: str | None, message_ids: list[int], export_ids: list[int]
) -> str:
    """What a page still waiting on these asks for, as it is now: only from the room it shows
    if its viewer may read it, and only their own exports."""
    return events.task_results_html(
        previews=preview_queries.link_previews_shown(
            user=user, room_slug=room_slug, message_ids=message_ids
        ),
        attachments=attachment_queries.attachments_shown(
            user=user, room_slug=room_slug, message_ids=message_ids
        ),
        exports=export_queries.exports_own_among(user=user, export_ids=export_ids),
    )
