"""Sequence numbers on pushes, so that a process can tell it missed one.

The channel layer is at-most-once: a message is dropped when the receiving channel is full,
when Redis restarts or fails over, or when a send fails. Each thread that pushes therefore
numbers its pushes per stream (the layer group that carries them: realtime.hub.messages.carrier):
`{"src": <this thread of this process>, "seq": 1, 2, 3, ...}`, and sends them in that order
(realtime.push.carrier_send sends one at a time per carrier). A receiving hub follows each
(stream, src); a number skipped means a push was lost, and the sockets of that stream resume
from their cursors before anything newer is shown to them.

Pure bookkeeping: no I/O.
"""

import os
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Streams a thread numbers before it starts afresh under a new source name (receivers then
# see a new source and take its first number as given): bounds the sender's memory.
SENDER_STREAMS_LIMIT = 100_000
# Sources a receiver follows per stream; past it the oldest is forgotten (a process that
# stopped sending). A forgotten source that sends again is taken as new.
SOURCES_PER_STREAM = 64


def new_source() -> str:
    return uuid.uuid4().hex[:16]


class Stamper(threading.local):
    """The numbers this thread puts on its pushes. Per thread: a thread's pushes leave in the
    order it made them (the server's database thread through its outbox, a worker's one
    thread directly), which two threads' would not."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.source = new_source()
        self.last: dict[str, int] = {}

    def stamp(self, stream: str) -> dict[str, Any]:
        if self.pid != os.getpid() or len(self.last) >= SENDER_STREAMS_LIMIT:
            # A forked child, or too many streams: number afresh under a new name.
            self.pid, self.source, self.last = os.getpid(), new_source(), {}
        seq = self.last.get(stream, 0) + 1
        self.last[stream] = seq
        return {"src": self.source, "seq": seq}


@dataclass(frozen=True)
class Gap:
    """Numbers skipped on a stream."""

    stream: str
    source: str
    missing: range


class Tracker:
    """The next number a receiver expects of each (stream, source)."""

    def __init__(self) -> None:
        self.streams: dict[str, dict[str, int]] = {}

    def seen(self, stream: str, source: str, seq: int) -> Gap | None:
        """Record `seq`; a Gap if numbers before it were skipped."""
        sources = self.streams.get(stream)
        if sources is None:
            sources = self.streams[stream] = {}
        expected = sources.get(source)
        if expected is None:
            if len(sources) >= SOURCES_PER_STREAM:
                del sources[next(iter(sources))]
            sources[source] = seq + 1
            return None
        if seq < expected:
            return None  # delivered twice: nothing was skipped
        sources[source] = seq + 1
        if seq == expected:
            return None
        return Gap(stream, source, range(expected, seq))

    def forget(self, streams: Iterable[str] | None = None) -> None:
        """Start afresh: for these streams (unsubscribed), or all (after re-subscribing)."""
        if streams is None:
            self.streams.clear()
            return
        for stream in streams:
            self.streams.pop(stream, None)
