"""Flood control for what one person makes other people see: every message they send (over
the socket), edit or delete, every room they create and every invitation they send spends one
token from the same budget, CHAT_SEND_BURST at once, then CHAT_SEND_RATE per second.

Each of these pushes to a room, the lobby or someone else's page, and costs the database its
checks and lookups (an edit full of mentions looks each of them up): the sender pays, not the
people who would be pushed to. The budget is kept per person and per process, as the
socket's other limits are (realtime.limits)."""

import time
from collections.abc import Callable

from django.conf import settings

from chat.logic import TOO_FAST
from realtime.limits import BucketMap
from realtime.validation import Invalid

# One bucket per person in this process, shared by all their tabs and requests here.
send_buckets = BucketMap(capacity=settings.SOCKET_LIMIT_KEYS)

# What the buckets read the time from (a test moves its own).
clock: Callable[[], float] = time.monotonic


def send_allowed(user_id: int) -> bool:
    """Spend one token of `user_id`'s budget, if there is one left."""
    return send_buckets.take(
        str(user_id),
        rate=settings.CHAT_SEND_RATE,
        burst=settings.CHAT_SEND_BURST,
        now=clock(),
    )


class TooFast(Invalid):
    """Over the person's budget: nothing was done, and the same request may be sent again."""


def send_spend(user_id: int) -> None:
    """Spend one token of `user_id`'s budget, or refuse with TooFast."""
    if not send_allowed(user_id):
        raise TooFast(TOO_FAST)
