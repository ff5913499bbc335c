"""Each frame a page socket receives: checked, then handed to the part's action it names.

A frame is within the person's frame budget (and the action's own budget, if it has one:
realtime.budgets), well formed (realtime.inbound), and names an action some part handles.
Whatever is not done is told to the page; the log hears of the first failure of each kind,
and of how many followed when the socket closes.
"""

import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from django.conf import settings

from realtime import inbound
from realtime.budgets import FRAME_COST, action_cost, within_budget
from realtime.inbound import Failures
from realtime.sockets.closes import (
    DATABASE_DOWN,
    DATABASE_UNAVAILABLE,
    FAILED,
    TOO_FAST,
    socket_error_html,
)
from realtime.sockets.parts import Action, Frame

logger = logging.getLogger(__name__)


def decode_frame(text: str | None) -> Frame | str:
    """The frame as a mapping with a string `action`, or an error message for the sender."""
    return inbound.decode_frame(
        text, max_chars=settings.SOCKET_FRAME_MAX_CHARS, max_depth=settings.SOCKET_FRAME_MAX_DEPTH
    )


class FrameDispatch:
    def __init__(self, *, reply: Callable[[str], Awaitable[None]]) -> None:
        self.reply = reply
        # The parts' frame handlers by action, once the socket is open.
        self.handlers: Mapping[str, Action] = {}
        self.failures = Failures()
        self.over_budget = False  # the last frame was beyond the person's frame budget

    async def handle(self, text_data: str | None, *, user_id: int) -> None:
        """One frame: within the person's budget, well formed, then the action it names."""
        now = time.monotonic()
        if not within_budget(user_id, FRAME_COST, now=now):
            # Told once per run of refused frames: a flood is not answered frame by frame.
            told, self.over_budget = self.over_budget, True
            if self.failures.note("over budget"):
                logger.info("A page socket's frame was refused (over budget): %s", TOO_FAST)
            if not told:
                await self.reply(socket_error_html(TOO_FAST))
            return
        self.over_budget = False
        frame = decode_frame(text_data)
        if isinstance(frame, str):
            await self.refused("invalid", frame)
            return
        handler = self.handlers.get(frame["action"])
        if handler is None:
            await self.refused("unknown action", f"Unknown action “{frame['action']}”.")
            return
        cost = action_cost(handler)
        if cost is not None and not within_budget(user_id, cost, now=now):
            await self.refused("over budget", TOO_FAST)
            return
        await handler(frame)

    async def refused(self, kind: str, reason: str) -> None:
        """A frame not acted upon: the page is told why."""
        if self.failures.note(kind):
            logger.info("A page socket's frame was refused (%s): %s", kind, reason)
        await self.reply(socket_error_html(reason))

    async def guarded(self, work: Awaitable[None]) -> None:
        """Run a part's handler; if it fails, the page is told and the socket stays open."""
        try:
            await work
        except Exception as error:
            await self.failed(error)

    async def failed(self, error: Exception) -> None:
        await self.reply(self.failure_html(error))

    def failure_html(self, error: Exception) -> str:
        """What the page is told of a failed action; the failure is counted and logged."""
        outage = isinstance(error, DATABASE_DOWN)
        first = self.failures.note("database down" if outage else type(error).__name__)
        if outage:
            if first:
                logger.warning("A socket action failed on the database", exc_info=error)
            return socket_error_html(DATABASE_UNAVAILABLE)
        if first:
            logger.error("A socket action failed", exc_info=error)
        return socket_error_html(FAILED)

    def summarise(self, user_id: int | None) -> None:
        """When the socket closes: how many failures went unlogged, by kind."""
        unlogged = self.failures.unlogged()
        if unlogged:
            logger.warning(
                "A page socket of user %s closed after %s more failed frames (%s)",
                user_id,
                sum(unlogged.values()),
                ", ".join(f"{kind}: {count}" for kind, count in unlogged.items()),
            )
