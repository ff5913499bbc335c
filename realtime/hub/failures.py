"""What the hub could not handle: each occurrence counted in `relay_hub_failures`, and logged
at most once per LOG_EVERY for the same kind, group and message type, so that a flood of bad
messages cannot flood the log too."""

import logging
import time
from collections.abc import Iterable

from realtime import metrics
from realtime.hub.messages import Member

logger = logging.getLogger(__name__)

# One log line per kind of failure and group at most this often; the rest are counted.
LOG_EVERY = 60.0


class FailureLog:
    def __init__(self) -> None:
        self.last_logged: dict[tuple[str, str, str], float] = {}

    def failed(self, kind: str, message: object, error: BaseException) -> None:
        metrics.HUB_FAILURES.labels(kind=kind).inc()
        group = message.get("group") if isinstance(message, dict) else None
        of_type = message.get("type") if isinstance(message, dict) else type(message).__name__
        self.log(
            kind,
            str(group)[:100],
            str(of_type)[:100],
            "Hub could not handle a message (%s) of type %r for group %r: %r",
            kind,
            of_type,
            group,
            error,
            exc_info=error if kind == "member" else None,
        )

    def log(
        self,
        kind: str,
        group: str,
        of_type: str,
        text: str,
        *args: object,
        exc_info: BaseException | None = None,
    ) -> None:
        """A warning, at most once per LOG_EVERY for the same kind, group and type; the
        counters in /metrics count every occurrence."""
        key = (kind, group, of_type)
        now = time.monotonic()
        if now - self.last_logged.get(key, -LOG_EVERY) < LOG_EVERY:
            return
        if len(self.last_logged) >= 1000:
            self.last_logged.clear()
        self.last_logged[key] = now
        logger.warning(text, *args, exc_info=exc_info)

    def member_failed(self, member: Member, message: dict[str, object], error: Exception) -> None:
        # It missed this message: it resumes from its cursor (if even that fails, it is
        # counted again and the others still go on).
        self.failed("member", message, error)
        try:
            member.interrupted()
        except Exception as again:
            self.failed("member", message, again)

    def interrupt(self, members: Iterable[Member]) -> None:
        """Ask each member to resume; one that fails is counted, and the rest go on."""
        for member in members:
            try:
                member.interrupted()
            except Exception as error:
                self.failed("member", {"type": "interrupted"}, error)
