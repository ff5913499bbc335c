"""Stand-ins for the hub tests: a channel layer that counts its calls, a socket that records
what the hub hands it, a numbered push."""

import asyncio
from collections.abc import Sequence

from channels.layers import InMemoryChannelLayer

from realtime.hub.messages import PUSH


class CountingLayer(InMemoryChannelLayer):
    def __init__(self) -> None:
        super().__init__()
        self.adds: list[str] = []
        self.discards: list[str] = []
        self.receive_failures = 0
        self.add_failures: dict[str, int] = {}  # group: how many of its next adds fail

    async def group_add(self, group, channel):
        self.adds.append(group)
        if self.add_failures.get(group):
            self.add_failures[group] -= 1
            raise ConnectionError("redis refused the add")
        # Not a wait: a point where the add yields, as a round trip to Redis would, so that
        # joins and leaves can race.
        await asyncio.sleep(0)
        await super().group_add(group, channel)

    async def group_discard(self, group, channel):
        self.discards.append(group)
        await asyncio.sleep(0)  # likewise
        await super().group_discard(group, channel)

    async def receive(self, channel):
        if self.receive_failures:
            self.receive_failures -= 1
            raise ConnectionError("redis went away")
        return await super().receive(channel)


class Socket:
    def __init__(self, *, fails: bool = False) -> None:
        self.received: list[str] = []
        self.interruptions = 0
        self.removals: list[tuple[str, str]] = []
        self.fails = fails
        self.session_changes: list[dict[str, object]] = []
        self.writes = 0  # calls that handed it messages

    def deliver(self, html: str, frame: bytes | None = None) -> None:
        if self.fails:
            raise RuntimeError("this socket's delivery is broken")
        self.received.append(html)

    def deliver_many(self, htmls: Sequence[str], frames: Sequence[bytes]) -> None:
        self.writes += 1
        for html, frame in zip(htmls, frames, strict=True):
            self.deliver(html, frame)

    def interrupted(self) -> None:
        self.interruptions += 1

    def removed(self, group: str, html: str) -> None:
        self.removals.append((group, html))

    def session_changed(self, change: dict[str, object]) -> None:
        self.session_changes.append(change)


def numbered(group: str, html: str, *, src: str, seq: int) -> dict[str, object]:
    return {"type": PUSH, "group": group, "html": html, "src": src, "seq": seq}
