"""The heartbeat: a page asks "ping" every few seconds and this part answers at once.

A socket whose network went away looks open to the browser until TCP gives up, minutes later.
The page (frontend/static/frontend/connection.js) counts a connection as dead when no answer
has come for a few seconds, shows "Reconnecting…" and opens a new socket. The answer is a
hidden element swapped in by id, so htmx's ws extension handles it like any other push.
"""

from collections.abc import Mapping

from realtime.sockets.parts import Action, Connection, Frame, Part

PING = "ping"
# The page numbers its pings; anything else is answered as 0 (an answer is all it needs).
MAX_SEQUENCE = 2**31 - 1


def pong_html(sequence: int) -> str:
    return f'<span id="heartbeat" data-seq="{sequence}" hidden hx-swap-oob="true"></span>'


def ping_sequence(frame: Frame) -> int:
    value = frame.get("seq")
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SEQUENCE:
        return value
    return 0


class HeartbeatPart(Part):
    """Every page socket answers pings; no group, nothing to catch up."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def actions(self) -> Mapping[str, Action]:
        return {PING: self.ping}

    async def ping(self, frame: Frame) -> None:
        await self.connection.reply(pong_html(ping_sequence(frame)))
