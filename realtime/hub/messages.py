"""What the hub carries, and which layer group carries each group's messages.

Every message names the group it is for and is numbered per sender and carrier
(realtime.sequence), so that a receiving hub notices one that never arrived.
"""

import re
import time
from collections.abc import Sequence
from typing import Any, Protocol

from django.conf import settings

from realtime.sequence import Stamper

PUSH = "html.push"
# Tells the members of a group (one person's tabs) to leave another group, e.g. a private room
# they were removed from, and shows them `html` if they were in it.
LEAVE = "group.leave"
# Tells the members of a group (one person's sockets) that a session of theirs ended or that
# their account changed; each socket judges whether that ends it (realtime.revocation).
SESSION = "session.changed"
# The hub's message to itself, through its own probe group (realtime.hub.probes).
PROBE = "hub.probe"
# Several of the messages above for one carrier, in order, in one layer message: an outbox
# (realtime.push) sends what queued up for a carrier together. Each keeps its own number.
BATCH = "hub.batch"

stamper = Stamper()


def push_event(group: str, html: str) -> dict[str, Any]:
    return {
        "type": PUSH,
        "group": group,
        "html": html,
        "sent_at": time.time(),
        **stamper.stamp(carrier(group)),
    }


def leave_event(group: str, *, leave: str, html: str) -> dict[str, Any]:
    return {
        "type": LEAVE,
        "group": group,
        "leave": leave,
        "html": html,
        **stamper.stamp(carrier(group)),
    }


def session_event(group: str, change: dict[str, Any]) -> dict[str, Any]:
    # Numbered like pushes: a lost one makes the person's sockets resume, and reconnecting
    # checks the session afresh.
    return {"type": SESSION, "group": group, "change": change, **stamper.stamp(carrier(group))}


def batch_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": BATCH, "messages": messages}


def runs_of_pushes(messages: list[Any]) -> list[list[Any]]:
    """A batch's messages in order, cut into runs: pushes for one group in a row, or any other
    message alone."""
    runs: list[list[Any]] = []
    for message in messages:
        last: Any = runs[-1][0] if runs else None
        if is_push(message) and is_push(last) and last.get("group") == message.get("group"):
            runs[-1].append(message)
        else:
            runs.append([message])
    return runs


def is_push(message: object) -> bool:
    return isinstance(message, dict) and message.get("type") == PUSH


def carrier(group: str) -> str:
    """The channel-layer group that carries `group`'s messages. A person's groups (their
    tabs, their inbox, their read cursors: `user.<id>...`) share one of HUB_PERSON_CARRIERS
    carriers by user id, so that ten thousand people cost a process at most that many
    subscriptions instead of three each, and a new person's socket usually none at all. Every
    other group is its own carrier."""
    match = PERSONAL.match(group)
    if match is None:
        return group
    return f"users.{int(match[1]) % settings.HUB_PERSON_CARRIERS}"


PERSONAL = re.compile(r"user\.(\d+)(?:\.|$)")


class Malformed(Exception):
    pass


class Member(Protocol):
    """What the hub hands messages to: a page socket (realtime.sockets.consumer)."""

    def deliver(self, html: str, frame: bytes | None = None) -> None:
        """Queue `html` for this socket without waiting; `frame` is it as a ready-made frame."""
        ...

    def deliver_many(self, htmls: Sequence[str], frames: Sequence[bytes]) -> None:
        """Queue several, in order, as `deliver` would each; written together where it can."""
        ...

    def interrupted(self) -> None:
        """Group messages may have been lost: the page should resume from its cursor."""
        ...

    def removed(self, group: str, html: str) -> None:
        """Stop receiving `group`'s messages; if it was receiving them, queue `html`."""
        ...

    def session_changed(self, change: dict[str, Any]) -> None:
        """A session or the account of this member's person changed: close if it ended."""
        ...
