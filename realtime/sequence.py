"""Sequence numbers on pushes, so that a process can tell it missed one.

The channel layer is at-most-once: a message is dropped when the receiving channel is full,
when Redis restarts or fails over, or when a send fails. Each sending process therefore
numbers its pushes per stream (the layer group that carries them, realtime.hub.carrier):
`{"src": <this process>, "seq": 1, 2, 3, ...}`. A receiving hub follows each (stream, src)
and, when a number is skipped and does not turn up shortly after (sends from one process can
overtake each other by a few milliseconds), asks the sockets of that stream to resume from
their cursors.

Pure bookkeeping: no I/O, no clock; the hub decides when a missing number is overdue.
"""

import os
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Streams a sender numbers before it starts afresh under a new source name (receivers then
# see a new source and take its first number as given): bounds the sender's memory.
SENDER_STREAMS_LIMIT = 100_000
# Sources a receiver follows per stream; past it the oldest is forgotten (a process that
# stopped sending). A forgotten source that sends again is taken as new.
SOURCES_PER_STREAM = 64
# A jump larger than this is not waited for: the stream is reported at once.
MISSING_LIMIT = 1000


def new_source() -> str:
    return uuid.uuid4().hex[:16]


class Stamper:
    """The numbers this process puts on its pushes; safe to use from any thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.source = new_source()
        self.last: dict[str, int] = {}

    def stamp(self, stream: str) -> dict[str, Any]:
        with self.lock:
            if self.pid != os.getpid() or len(self.last) >= SENDER_STREAMS_LIMIT:
                # A forked child, or too many streams: number afresh under a new name.
                self.pid, self.source, self.last = os.getpid(), new_source(), {}
            seq = self.last.get(stream, 0) + 1
            self.last[stream] = seq
            return {"src": self.source, "seq": seq}


@dataclass
class Source:
    expected: int
    missing: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class Gap:
    """Numbers skipped on a stream; `at_once` when too many to wait for."""

    stream: str
    source: str
    missing: range
    at_once: bool = False


class Tracker:
    """What a receiver has seen of each (stream, source)."""

    def __init__(self) -> None:
        self.streams: dict[str, dict[str, Source]] = {}

    def seen(self, stream: str, source: str, seq: int) -> Gap | None:
        """Record `seq`; a Gap if numbers before it were skipped."""
        sources = self.streams.get(stream)
        if sources is None:
            sources = self.streams[stream] = {}
        known = sources.get(source)
        if known is None:
            if len(sources) >= SOURCES_PER_STREAM:
                del sources[next(iter(sources))]
            sources[source] = Source(expected=seq + 1)
            return None
        if seq == known.expected:
            known.expected = seq + 1
            return None
        if seq < known.expected:
            # Late (it overtook nothing, something overtook it) or delivered twice.
            known.missing.discard(seq)
            return None
        skipped = range(known.expected, seq)
        known.expected = seq + 1
        if len(skipped) + len(known.missing) > MISSING_LIMIT:
            known.missing.clear()
            return Gap(stream, source, skipped, at_once=True)
        known.missing.update(skipped)
        return Gap(stream, source, skipped)

    def still_missing(self, gap: Gap) -> bool:
        """Whether any number of `gap` is still missing; if so the stream's missing numbers
        are forgotten (its sockets resume, which covers them all)."""
        known = self.streams.get(gap.stream, {}).get(gap.source)
        if known is None or not any(seq in known.missing for seq in gap.missing):
            return False
        known.missing.clear()
        return True

    def forget(self, streams: Iterable[str] | None = None) -> None:
        """Start afresh: for these streams (unsubscribed), or all (after re-subscribing)."""
        if streams is None:
            self.streams.clear()
            return
        for stream in streams:
            self.streams.pop(stream, None)
