"""What a socket part is, and what it may know about and do with its socket.

A part is one concern of a page socket (the viewer's notifications, a room, the page's
counters). Its class is called with the socket's Connection once the user is known; it
overrides the hooks of Part it uses, and the consumer (realtime.sockets.consumer) calls them.
"""

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User

Frame = Mapping[str, Any]
Action = Callable[[Frame], Awaitable[None]]
Cleanup = Callable[[], Awaitable[None]]


class Refused(Exception):
    """Raised by a part's `load` to refuse the whole socket, which closes with `code`. With
    `explain`, the page's error line also shows the reason."""

    def __init__(self, code: int, reason: str, *, explain: bool = False) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.explain = explain


@dataclass(frozen=True)
class Connection:
    """What a part may know about, and do with, the socket it belongs to."""

    user: User
    params: Mapping[str, str]
    reply: Callable[[str], Awaitable[None]]
    # Unique per socket: what tells two tabs of one person apart (e.g. in presence).
    socket_id: str
    # Registers a coroutine function to run when the socket closes.
    on_close: Callable[[Cleanup], None]
    # Stops this socket receiving a group's messages (after access to it ended).
    leave: Callable[[str], Awaitable[None]]
    # What parts read while the socket opens and share (e.g. the room a page shows), by name.
    shared: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class CatchUp:
    """What a part sends once its socket is open, and the groups it leaves again because
    access ended between joining and now."""

    html: str = ""
    leave: Sequence[str] = ()


NOTHING_MISSED = CatchUp()


class Part:
    """One concern of a page socket. The hooks here do nothing: a part overrides only those it
    uses, and never calls super(). `load` and `catch_up` run in a thread that may use the
    database (synchronous ORM calls are fine there), together with every other part's."""

    def load(self) -> Iterable[str]:
        """Before the socket opens: read what this part needs, and answer the groups it joins.
        Raise Refused to refuse the whole socket."""
        return ()

    def actions(self) -> Mapping[str, Action]:
        """Frame handlers by the frame's `action` field."""
        return {}

    async def enter(self) -> None:
        """Once the socket is open, before catching up: work away from the database (e.g.
        presence)."""

    def catch_up(self) -> CatchUp:
        """Once the socket is open: what the page may have missed."""
        return NOTHING_MISSED


PartFactory = Callable[[Connection], Part]
