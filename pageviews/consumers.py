"""The pageview parts of the page socket, and the worker that counts.

PagePart: a page that says which page it is (`/ws/?path=/rooms/general/`) hears its counters
and is counted in "here now". StatsPart: the stats page hears the stats.

PageviewWorker: a Channels worker consumer on the `pageviews` channel
(`manage.py runworker pageviews`). Requests send it one message per view without waiting; it
adds them up in memory, saves them in one transaction per flush, and pushes each changed page's
total once per flush: at most one update per page per PAGEVIEWS_FLUSH_SECONDS, however many
views arrive. A message lost on the layer or a batch lost in a crash is never counted: the
counters are approximate by design (at-most-once), and nothing else depends on them. A batch
the database refuses (an outage, a failover) is kept and saved with the next flush. The
worker process itself outlives Redis outages (pageviews.worker); in the embedded default the
worker runs inside the server process instead (realtime.embedded).
"""

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from channels.consumer import AsyncConsumer, get_handler_name
from channels.db import database_sync_to_async
from django.conf import settings

from pageviews import actions, events, logic, queries
from realtime import logic as realtime_logic
from realtime.presence import get_presence
from realtime.sockets.closes import CLOSE_BAD_REQUEST, CLOSE_NOT_FOUND
from realtime.sockets.parts import NOTHING_MISSED, CatchUp, Connection, Part, Refused

logger = logging.getLogger(__name__)


class PagePart(Part):
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.path: str | None = None
        self.member = realtime_logic.presence_member(connection.user.pk, connection.socket_id)
        self.people_here: list[int] | None = None

    def load(self) -> Iterable[str]:
        raw = self.connection.params.get("path")
        if raw is None:
            return []
        try:
            path = logic.clean_page_path(raw)
        except logic.Invalid as error:
            raise Refused(CLOSE_BAD_REQUEST, str(error)) from None
        # A private room's page, to a non-member: refused exactly like a missing room.
        # (A room page's socket names its room too, and chat's RoomPart refuses non-readers.)
        shown_room = self.connection.params.get("room")
        if not queries.page_shown_to(user=self.connection.user, path=path, room_checked=shown_room):
            raise Refused(CLOSE_NOT_FOUND, "No such room.")
        self.path = path
        return [logic.page_group_name(self.path)]

    async def enter(self) -> None:
        if self.path is None:
            return
        presence = get_presence()
        space = logic.page_space(self.path)
        await presence.enter(space, self.member, announce=partial(announce_here_now, self.path))
        await presence.enter(realtime_logic.SITE_SPACE, self.member)
        self.connection.on_close(self.leave)
        self.people_here = await presence.people_entering(space, self.connection.user.pk)

    def catch_up(self) -> CatchUp:
        if self.path is None:
            return NOTHING_MISSED
        html = events.views_html(queries.page_views(path=self.path))
        if self.people_here is not None:  # else the announcement of this arrival tells
            html += events.here_html(len(self.people_here))
        return CatchUp(html=html)

    async def leave(self) -> None:
        assert self.path is not None
        presence = get_presence()
        await presence.leave(logic.page_space(self.path), self.member)
        await presence.leave(realtime_logic.SITE_SPACE, self.member)


async def announce_here_now(path: str, space: str, members: list[str]) -> None:
    await events.here_now_changed(path, len(realtime_logic.people(members)))


class StatsPart(Part):
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.on_stats = connection.params.get("page") == logic.STATS_PAGE
        self.presence: tuple[int, int] | None = None

    def load(self) -> Iterable[str]:
        return [logic.STATS_GROUP] if self.on_stats else []

    async def enter(self) -> None:
        if self.on_stats:
            self.presence = await site_presence()

    def catch_up(self) -> CatchUp:
        if self.presence is None:
            return NOTHING_MISSED
        connections, people = self.presence
        return CatchUp(html=events.stats_html(connections=connections, people=people))


async def site_presence() -> tuple[int, int]:
    """Sockets open on the whole site, and the people behind them."""
    members = await get_presence().members(realtime_logic.SITE_SPACE)
    return len(members), len(realtime_logic.people(members))


class PageviewWorker(AsyncConsumer):
    def __init__(self) -> None:
        super().__init__()
        self.tally = logic.Tally()
        self.flusher: asyncio.Task[None] | None = None
        self.stats_pushed: float | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self.flusher is not None:
                self.flusher.cancel()

    async def dispatch(self, message: Mapping[str, Any]) -> None:
        # No thread hop per message to close old database connections: the flush does its
        # database work in database_sync_to_async, which does that itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            logger.warning("Pageview worker ignored a message of type %r", message.get("type"))
            return
        await handler(message)

    async def pageview_hit(self, message: Mapping[str, Any]) -> None:
        hit = logic.parse_hit(message)
        if hit is None:
            logger.warning("Pageview worker ignored a malformed hit: %r", message)
            return
        self.tally.add(*hit)
        if self.flusher is None:
            self.flusher = asyncio.create_task(self.flush_every(settings.PAGEVIEWS_FLUSH_SECONDS))

    async def flush_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            await self.flush()

    async def flush(self) -> None:
        batch = self.tally.drain()
        if batch:
            try:
                await database_sync_to_async(actions.pageviews_record)(batch=batch)
            except Exception:
                # The database is down or failing over: the views wait for the next flush.
                self.tally.restore(batch)
                logger.warning(
                    "Saving %d pageviews failed; trying again at the next flush",
                    sum(batch.views.values()),
                    exc_info=True,
                )
        try:
            await self.push_stats_if_watched()
        except Exception:
            logger.warning("Pushing the stats failed", exc_info=True)

    async def push_stats_if_watched(self) -> None:
        now = time.monotonic()
        if not logic.due(now=now, last=self.stats_pushed, every=settings.STATS_PUSH_SECONDS):
            return
        self.stats_pushed = now
        presence = get_presence()
        if not await presence.members(logic.page_space(events.stats_path())):
            return
        connections, people = await site_presence()
        await database_sync_to_async(events.stats_changed)(connections=connections, people=people)
