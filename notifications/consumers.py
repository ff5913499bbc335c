"""The notification parts of the page socket (see realtime.sockets)."""

from collections.abc import Iterable, Mapping

from channels.db import database_sync_to_async

from notifications import events, logic
from realtime.sockets import Action, Connection

INBOX_PAGE = "inbox"


class PersonalPart:
    """Every page: the viewer's own group (badge, toasts) and the site-wide announcements.
    On the notifications page also the inbox groups, which carry list items."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.user_id: int = connection.user.pk
        self.on_inbox = connection.params.get("page") == INBOX_PAGE

    async def join(self) -> Iterable[str]:
        groups = [logic.user_group_name(self.user_id), logic.SITE_GROUP]
        if self.on_inbox:
            groups += [logic.inbox_group_name(self.user_id), logic.SITE_INBOX_GROUP]
        return groups

    def actions(self) -> Mapping[str, Action]:
        return {}

    async def ready(self) -> None:
        # A tab that reconnects may have missed pushes: send the current state, which swaps
        # in by id, so nothing is duplicated.
        await self.connection.reply(await database_sync_to_async(self.catch_up_html)())

    def catch_up_html(self) -> str:
        html = events.bell_html(self.user_id) + events.banner_html(self.user_id)
        if self.on_inbox:
            html += events.inbox_html(self.user_id)
        return html
