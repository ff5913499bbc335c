"""What a page socket accepts from its client: no I/O, no clock.

A frame is checked before it is parsed (its size, how deeply it nests) and after (its shape,
and text the database and the page can hold), so no frame can make the parser recurse without
bound or put a NUL byte or a lone surrogate in front of an action. Frames wait in a bounded
inbox; replies are made encodable whatever the input; repeated failures of one socket are
counted, to be logged once.
"""

import asyncio
import json
import re
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from realtime.text import is_bad_text

Frame = Mapping[str, Any]
ASGIMessage = dict[str, Any]

# A JSON string, escapes included (an unterminated one runs to the end of the text, so that no
# quote starts a match that fails: that made the search quadratic); and a container holding no
# other container.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_INNERMOST = re.compile(r"\[[^\[\]{}]*\]|\{[^\[\]{}]*\}")
_CONTAINER = re.compile(r"[\[\]{}]")

BINARY = "Binary frames are not supported."
TOO_LARGE = "That frame is too large."
TOO_DEEP = "That frame is nested too deeply."
NOT_JSON = "That frame was not valid JSON."
NOT_OBJECT = "A frame must be a JSON object."
NO_ACTION = "A frame needs an “action” field."
BAD_TEXT = "That frame holds characters that are not allowed (NUL or unpaired surrogates)."


def nesting_depth_over(text: str, *, limit: int) -> bool:
    """Whether the JSON `text` nests arrays and objects more than `limit` deep, found without
    parsing it: strings are removed, then the innermost containers, `limit` times over. What is
    left holds brackets only if something nested deeper (or the text is not JSON anyway)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    text = _STRING.sub('""', text)
    for _ in range(limit):
        text, removed = _INNERMOST.subn("", text)
        if not removed:
            break
    return _CONTAINER.search(text) is not None


def has_bad_text(value: object) -> bool:
    """Whether any string in a parsed frame (keys included) holds NUL or a lone surrogate.
    Recursion is bounded: frames are checked for depth before they are parsed."""
    if isinstance(value, str):
        return is_bad_text(value)
    if isinstance(value, dict):
        return any(has_bad_text(key) or has_bad_text(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_bad_text(item) for item in value)
    return False


def decode_frame(text: str | None, *, max_chars: int, max_depth: int) -> Frame | str:
    """The frame as a mapping with a string `action`, or an error message for the sender."""
    if text is None:
        return BINARY
    if len(text) > max_chars:
        return TOO_LARGE
    if nesting_depth_over(text, limit=max_depth):
        return TOO_DEEP
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        return NOT_JSON
    if not isinstance(frame, dict):
        return NOT_OBJECT
    if has_bad_text(frame):
        return BAD_TEXT
    if not isinstance(frame.get("action"), str):
        return NO_ACTION
    return frame


def encodable(text: str) -> str:
    """`text`, with any lone surrogate written as its escape, so that it encodes as UTF-8."""
    if not is_bad_text(text):
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass
class Failures:
    """One socket's failed frames by kind: the first of each kind is logged, the rest counted
    and summarised when the socket closes."""

    counts: Counter[str] = field(default_factory=Counter)

    def note(self, kind: str) -> bool:
        """Count one failure of `kind`; True if it is the first (the one to log)."""
        self.counts[kind] += 1
        return self.counts[kind] == 1

    def unlogged(self) -> dict[str, int]:
        """How many of each kind were counted but not logged."""
        return {kind: count - 1 for kind, count in sorted(self.counts.items()) if count > 1}


class Inbox:
    """What the client sent, read as soon as it arrives and waiting to be handled in order:
    at most `frames` frames and `size` characters of them. The server's own queue in front of
    the application has no bound; this one keeps that queue empty.

    One reader gets from it (the socket's loop). Most sockets are idle most of the time, so
    it holds nothing while empty: its queue is made when a message arrives, and the only
    thing a waiting reader holds is one future."""

    def __init__(self, *, frames: int, size: int) -> None:
        self.frames = frames
        self.size = size
        self.waiting: deque[ASGIMessage] | None = None
        self.held = 0  # characters of the frames waiting
        self.wakeup: asyncio.Future[None] | None = None  # the reader's, while it waits

    def put(self, message: ASGIMessage) -> bool:
        """Queue `message`; False (and nothing queued) if it is a frame beyond the bounds."""
        length = len(message.get("text") or message.get("bytes") or "")
        if message["type"] == "websocket.receive":
            queued = len(self.waiting) if self.waiting is not None else 0
            if queued >= self.frames or self.held + length > self.size:
                return False
            self.held += length
        if self.waiting is None:
            self.waiting = deque()
        self.waiting.append(message)
        if self.wakeup is not None and not self.wakeup.done():
            self.wakeup.set_result(None)
        return True

    async def get(self) -> ASGIMessage:
        while not self.waiting:
            self.wakeup = asyncio.get_running_loop().create_future()
            try:
                await self.wakeup
            finally:
                self.wakeup = None
        message = self.waiting.popleft()
        if not self.waiting:
            self.waiting = None
        if message["type"] == "websocket.receive":
            self.held -= len(message.get("text") or message.get("bytes") or "")
        return message
