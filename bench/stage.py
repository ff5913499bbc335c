"""What a scenario runs on: the started server, its deployment and sizes, and how to reach
it (the connections, the client processes, the CPU and memory windows); and a warm-up, so
that the baseline includes what the first connection loads.
"""

import asyncio
import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from bench.deployment import Deployment, room_slug
from bench.fleet import Fleet
from bench.processes import Server
from bench.procstat import Timeline, Window, memory_kb
from bench.sizes import Sizes

KB_PER_MB = 1024


@dataclass(frozen=True)
class Stage:
    """Everything a scenario needs: the started server, and how to reach it."""

    deployment: Deployment
    server: Server
    sizes: Sizes
    log: Path

    def connections(self, rooms: Sequence[int]) -> list[dict[str, Any]]:
        """One connection per entry of `rooms` (the room number it joins)."""
        target = self.deployment.target
        return [
            {
                "index": index,
                "room": room_slug(room),
                "path": target.socket_path(room_slug(room)),
                "cookie": self.deployment.cookie(index),
            }
            for index, room in enumerate(rooms)
        ]

    def fleet(self, connections: Sequence[dict[str, Any]]) -> Fleet:
        return Fleet(
            url=self.server.url,
            origin=self.server.origin,
            dialect=self.deployment.target.dialect,
            connections=connections,
            processes=self.sizes.clients,
            log=self.log,
            open_timeout=self.sizes.open_timeout,
        )

    def groups(self, fleet: Fleet) -> dict[str, list[int]]:
        groups = {"server": [self.server.pid], "clients": fleet.pids, "harness": [os.getpid()]}
        if self.deployment.redis_pid is not None:
            groups["redis"] = [self.deployment.redis_pid]
        if self.deployment.postgres_pid is not None:
            groups["postgres"] = [self.deployment.postgres_pid]
        return groups

    def window(self, fleet: Fleet) -> Window:
        return Window.start(self.groups(fleet))

    def timeline(self, fleet: Fleet) -> Timeline:
        return Timeline(self.groups(fleet))

    def rss_mb(self) -> float:
        return round(memory_kb(self.server.pid).get("VmRSS", 0) / KB_PER_MB, 1)

    @property
    def fill_timeout(self) -> float:
        """Long enough to open the largest scenario at a slow server's pace."""
        return 60 + self.sizes.idle_connections / 20


async def warm_up(stage: Stage, connections: int = 3) -> None:
    """A few connections first, so that the baseline includes what the first one loads."""
    (plan,) = stage.connections([0])
    headers = {"Origin": stage.server.origin}
    if plan["cookie"]:
        headers["Cookie"] = f"sessionid={plan['cookie']}"
    for _ in range(connections):
        with contextlib.suppress(OSError, TimeoutError, InvalidHandshake, ConnectionClosed):
            async with connect(
                stage.server.url + plan["path"],
                additional_headers=headers,
                open_timeout=10,
                proxy=None,
                compression=None,
            ) as socket:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1 if plan["cookie"] else 0.1):
                        await socket.recv()
    await asyncio.sleep(0.5)
