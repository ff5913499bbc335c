from collections.abc import Iterable, Mapping

from notifications.logic import user_group_name
from realtime.sockets import Action, Connection


class PersonalPart:
    """Joins the viewer's personal group, which reaches every tab they have open."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def join(self) -> Iterable[str]:
        return [user_group_name(self.connection.user.pk)]

    def actions(self) -> Mapping[str, Action]:
        return {}
