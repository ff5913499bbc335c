"""The client processes of one scenario, driven in lockstep by the runner.

Connections are dealt round-robin to the processes, so each holds a share of every room.
A command goes to every process and the runner waits, bounded, for every reply.
"""

import asyncio
import contextlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from bench.client import Dialect
from bench.deployment import base_env
from bench.targets import ROOT

REPLY_LIMIT = 2**28  # one reply line may carry every latency the process measured


class ClientError(RuntimeError):
    pass


class Fleet:
    def __init__(
        self,
        *,
        url: str,
        origin: str,
        dialect: Dialect,
        connections: Sequence[dict[str, Any]],
        processes: int,
        log: Path,
        open_timeout: float,
    ) -> None:
        count = max(1, min(processes, len(connections)))
        self.shares = [list(connections[n::count]) for n in range(count)]
        self.plan = {"url": url, "origin": origin, "dialect": dialect, "open_timeout": open_timeout}
        self.log = log
        self.children: list[asyncio.subprocess.Process] = []

    @property
    def pids(self) -> list[int]:
        return [child.pid for child in self.children]

    async def __aenter__(self) -> Self:
        env = base_env()
        with self.log.open("ab") as log:
            for share in self.shares:
                child = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bench.client",
                    cwd=ROOT,
                    env=env,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=log,
                    limit=REPLY_LIMIT,
                )
                self.children.append(child)
                self.write(child, {**self.plan, "connections": share})
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for child in self.children:
            if child.returncode is None:
                with contextlib.suppress(OSError, ConnectionError):
                    self.write(child, {"cmd": "close"})
                    child.stdin.close()  # type: ignore[union-attr]
        for child in self.children:
            try:
                async with asyncio.timeout(15):
                    await child.wait()
            except TimeoutError:
                child.kill()
                await child.wait()

    def write(self, child: asyncio.subprocess.Process, message: dict[str, Any]) -> None:
        assert child.stdin is not None
        child.stdin.write(json.dumps(message).encode() + b"\n")

    async def command(self, message: dict[str, Any], *, within: float) -> list[dict[str, Any]]:
        """Send `message` to every process; their replies, in process order."""
        for child in self.children:
            self.write(child, message)
        try:
            async with asyncio.timeout(within):
                return list(await asyncio.gather(*(self.reply(c) for c in self.children)))
        except TimeoutError:
            raise ClientError(
                f"client processes did not finish {message['cmd']!r} within {within:.0f} s"
            ) from None

    async def reply(self, child: asyncio.subprocess.Process) -> dict[str, Any]:
        assert child.stdout is not None
        line = await child.stdout.readline()
        if not line:
            raise ClientError(f"client process {child.pid} exited; see {self.log}")
        reply: dict[str, Any] = json.loads(line)
        return reply
