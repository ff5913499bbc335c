"""The notification parts of the page socket (see realtime.sockets)."""

from collections.abc import Iterable, Mapping

from channels.db import database_sync_to_async
from django.conf import settings

from notifications import events, logic, queries
from realtime.budgets import costs
from realtime.groups import SITE_GROUP, user_group_name
from realtime.sockets.closes import socket_error_html
from realtime.sockets.parts import Action, CatchUp, Connection, Frame, Part
from realtime.validation import Invalid, parse_cursor

INBOX_PAGE = "inbox"


class PersonalPart(Part):
    """Every page: the viewer's own group (badge, toasts) and the site-wide announcements.
    On the notifications page also the inbox groups, which carry list items."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.user_id: int = connection.user.pk
        self.on_inbox = connection.params.get("page") == INBOX_PAGE

    def load(self) -> Iterable[str]:
        groups = [user_group_name(self.user_id), SITE_GROUP]
        if self.on_inbox:
            groups += [logic.inbox_group_name(self.user_id), logic.SITE_INBOX_GROUP]
        return groups

    def actions(self) -> Mapping[str, Action]:
        return {"notifications.resume": self.resume}

    def catch_up(self) -> CatchUp:
        # A tab that reconnects may have missed pushes: send the current state, which swaps
        # in by id, so nothing is duplicated.
        html = events.bell_and_banner_html(self.user_id)
        if self.on_inbox:
            html += events.inbox_html(self.user_id)
        return CatchUp(html=html)

    @costs("resume")
    async def resume(self, frame: Frame) -> None:
        """The toasts of notifications newer than the page's cursor (`after`), oldest first:
        what arrived while the socket was down, or between rendering the page and opening it.
        The badge, banner and list need no cursor: `ready` sends them as they are now."""
        try:
            after_id = parse_cursor(frame.get("after"))
        except Invalid as error:
            await self.connection.reply(socket_error_html(str(error)))
            return
        missed = await database_sync_to_async(queries.notifications_after)(
            user_id=self.user_id, after_id=after_id, limit=settings.NOTIFICATIONS_RESUME_LIMIT
        )
        if missed:
            await self.connection.reply(events.toasts_html(missed))
