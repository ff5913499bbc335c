"""The load client: one process holding many WebSocket connections, driven by the runner.

    python -m bench.client < commands

The runner writes one JSON object per line on stdin — first the plan (which connections,
how to speak to the target), then commands, one per phase — and reads one JSON reply per
command on stdout. Every wait is bounded; the process exits after `close`, or when stdin ends.

Timestamps are `time.monotonic_ns()`, which on Linux is one clock for every process on the
machine, so a message's send time (carried in its body) and its arrival time in another
client process can be compared.
"""

import asyncio
import contextlib
import json
import re
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidMessage,
    InvalidStatus,
)

Dialect = Literal["app", "peer"]

# bench-<sender connection index>-<sequence number>-<send time, monotonic ns>
MARKER = re.compile(r"bench-(\d+)-(\d+)-(\d+)")
# The app's reply to an accepted send: the composer's error line, empty.
APP_ACK = re.compile(r'<p id="composer-error"[^>]*></p>')
APP_REPLY = 'id="composer-error"'
SEQUENCE_LIMIT = 10_000_000
NS_PER_MS = 1_000_000
NS_PER_US = 1_000


def marker(sender: int, sequence: int, sent_ns: int) -> str:
    return f"bench-{sender}-{sequence}-{sent_ns}"


def send_frame(dialect: Dialect, body: str) -> str:
    if dialect == "app":
        return json.dumps({"action": "chat.send", "body": body, "client_id": str(uuid.uuid4())})
    return json.dumps({"message": body})


def failure_reason(error: BaseException) -> str:
    if isinstance(error, InvalidStatus):
        return f"http {error.response.status_code}"
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, InvalidMessage):
        return "closed before the HTTP answer"  # e.g. Daphne's 5 s connect timeout
    return type(error).__name__


@dataclass
class Plan:
    url: str  # ws://127.0.0.1:PORT
    origin: str
    dialect: Dialect
    open_timeout: float
    connections: list[dict[str, Any]]  # index, path, room, cookie (or null)


@dataclass
class Link:
    """One connection and what arrived on it."""

    index: int
    path: str
    room: str
    cookie: str | None
    socket: ClientConnection | None = None
    reader: asyncio.Task[None] | None = None
    seen: set[int] = field(default_factory=set)
    last_sequence: dict[int, int] = field(default_factory=dict)
    frames: int = 0


@dataclass
class Tally:
    """Deliveries counted by this process since the last chat phase began."""

    received: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    acks: int = 0
    rejections: int = 0
    latencies_us: list[int] = field(default_factory=list)
    last_received_ns: int = 0


class Client:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.links = [
            Link(index=c["index"], path=c["path"], room=c["room"], cookie=c.get("cookie"))
            for c in plan.connections
        ]
        self.tally = Tally()
        # Flood mode: messages a sender has sent and not yet seen come back.
        self.in_flight: dict[int, int] = {}
        self.echoed: dict[int, asyncio.Event] = {}
        self.progress = asyncio.Event()

    # Opening and reading.

    async def open_link(self, link: Link) -> tuple[str | None, int]:
        """Open one connection; returns (failure reason or None, connect time in ns)."""
        headers = {"Origin": self.plan.origin}
        if link.cookie:
            headers["Cookie"] = f"sessionid={link.cookie}"
        started = time.monotonic_ns()
        try:
            socket = await connect(
                self.plan.url + link.path,
                additional_headers=headers,
                open_timeout=self.plan.open_timeout,
                close_timeout=2,
                ping_interval=None,  # the server pings; answering is automatic
                compression=None,
                proxy=None,
                max_size=None,
                user_agent_header=None,
            )
        except (OSError, TimeoutError, InvalidHandshake) as error:
            return failure_reason(error), time.monotonic_ns() - started
        link.socket = socket
        link.seen.clear()
        link.last_sequence.clear()
        link.reader = asyncio.create_task(self.read(link, socket))
        return None, time.monotonic_ns() - started

    async def open_many(self, links: list[Link], concurrency: int) -> dict[str, Any]:
        limit = asyncio.Semaphore(concurrency if concurrency > 0 else len(links) or 1)
        failures: Counter[str] = Counter()
        connect_ms: list[float] = []
        finished_ns = 0

        async def one(link: Link) -> None:
            nonlocal finished_ns
            async with limit:
                reason, elapsed = await self.open_link(link)
            if reason is None:
                connect_ms.append(elapsed / NS_PER_MS)
                finished_ns = max(finished_ns, time.monotonic_ns())
            else:
                failures[reason] += 1

        started_ns = time.monotonic_ns()
        await asyncio.gather(*(one(link) for link in links))
        rooms = Counter(link.room for link in links if link.socket is not None)
        return {
            "rooms": dict(rooms),
            "attempted": len(links),
            "opened": len(connect_ms),
            "failed": sum(failures.values()),
            "failures": dict(failures),
            "connect_ms": connect_ms,
            "started_ns": started_ns,
            "finished_ns": finished_ns or time.monotonic_ns(),
        }

    async def read(self, link: Link, socket: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for data in socket:
                now = time.monotonic_ns()
                text = data if isinstance(data, str) else data.decode()
                link.frames += 1
                self.count(link, text, now)

    def count(self, link: Link, text: str, now: int) -> None:
        tally = self.tally
        found = False
        for match in MARKER.finditer(text):
            found = True
            sender, sequence, sent_ns = (int(group) for group in match.groups())
            key = sender * SEQUENCE_LIMIT + sequence
            if key in link.seen:
                tally.duplicates += 1
                continue
            link.seen.add(key)
            tally.received += 1
            tally.latencies_us.append((now - sent_ns) // NS_PER_US)
            tally.last_received_ns = now
            if sequence < link.last_sequence.get(sender, -1):
                tally.out_of_order += 1
            else:
                link.last_sequence[sender] = sequence
            if sender == link.index and sender in self.in_flight:
                self.in_flight[sender] = max(0, self.in_flight[sender] - 1)
                self.echoed[sender].set()
        if found:
            self.progress.set()
        elif self.plan.dialect == "app" and APP_REPLY in text:
            if APP_ACK.search(text):
                tally.acks += 1
            else:
                tally.rejections += 1

    def open_links(self) -> list[Link]:
        return [link for link in self.links if link.reader is not None and not link.reader.done()]

    def abort_all(self) -> None:
        for link in self.links:
            if link.socket is not None:
                link.socket.transport.abort()
                link.socket = None

    # Phases.

    async def open(self, command: dict[str, Any]) -> dict[str, Any]:
        await sleep_until(command.get("at_ns"))
        return await self.open_many(self.links, command.get("concurrency", 0))

    async def storm(self, command: dict[str, Any]) -> dict[str, Any]:
        """Drop every connection at once, as a network blip would, then reconnect them all."""
        await sleep_until(command.get("at_ns"))
        dropped = [link for link in self.links if link.socket is not None]
        readers = [link.reader for link in dropped if link.reader is not None]
        self.abort_all()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await asyncio.gather(*readers, return_exceptions=True)
        reply = await self.open_many(dropped, 0)
        reply["dropped"] = len(dropped)
        return reply

    async def chat(self, command: dict[str, Any]) -> dict[str, Any]:
        """Send on schedule (or as fast as a window allows), and count what arrives."""
        self.tally = Tally()
        start_ns: int = command["start_ns"]
        end_ns: int = command["end_ns"]
        drain_ns: int = command["drain_ns"]
        quiet_ns: int = command["quiet_ns"]
        window: int = command.get("window", 0)
        plans: dict[str, dict[str, int]] = command["senders"]
        expected_per_room: dict[str, int] = command.get("expected_per_room", {})
        by_index = {link.index: link for link in self.links}
        sent: Counter[str] = Counter()
        send_errors: Counter[str] = Counter()

        async def scheduled(link: Link, schedule: dict[str, int]) -> None:
            for sequence in range(schedule["count"]):
                due = start_ns + schedule["offset_ns"] + sequence * schedule["every_ns"]
                await sleep_until(due)
                if not await self.send(link, sequence, send_errors):
                    return
                sent[link.room] += 1

        async def flooding(link: Link) -> None:
            self.in_flight[link.index] = 0
            echoed = self.echoed[link.index] = asyncio.Event()
            await sleep_until(start_ns)
            sequence = 0
            while time.monotonic_ns() < end_ns:
                if self.in_flight[link.index] >= window:
                    echoed.clear()
                    try:
                        async with asyncio.timeout(1):
                            await echoed.wait()
                    except TimeoutError:
                        self.in_flight[link.index] = 0  # lost: stop waiting for them
                    continue
                self.in_flight[link.index] += 1
                if not await self.send(link, sequence, send_errors):
                    return
                sent[link.room] += 1
                sequence += 1

        senders = []
        for index, schedule in plans.items():
            link = by_index.get(int(index))
            if link is None or link.socket is None:
                continue
            senders.append(flooding(link) if window else scheduled(link, schedule))
        await asyncio.gather(*senders)
        sending_done_ns = time.monotonic_ns()

        expected = sum(expected_per_room.get(link.room, 0) for link in self.open_links())
        while True:
            now = time.monotonic_ns()
            if expected and self.tally.received >= expected:
                break
            if now >= drain_ns:
                break
            last = max(self.tally.last_received_ns, sending_done_ns, end_ns)
            if now - last >= quiet_ns:
                break
            self.progress.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.2):
                    await self.progress.wait()
        self.in_flight.clear()
        tally = self.tally
        return {
            "sent": dict(sent),
            "send_errors": dict(send_errors),
            "receivers": dict(Counter(link.room for link in self.open_links())),
            "received": tally.received,
            "duplicates": tally.duplicates,
            "out_of_order": tally.out_of_order,
            "acks": tally.acks,
            "rejections": tally.rejections,
            "latencies_us": tally.latencies_us,
            "last_received_ns": tally.last_received_ns,
            "sending_done_ns": sending_done_ns,
        }

    async def send(self, link: Link, sequence: int, errors: Counter[str]) -> bool:
        if link.socket is None:
            errors["not connected"] += 1
            return False
        body = marker(link.index, sequence, time.monotonic_ns())
        try:
            await link.socket.send(send_frame(self.plan.dialect, body))
        except ConnectionClosed:
            errors["closed"] += 1
            return False
        return True

    async def status(self, command: dict[str, Any]) -> dict[str, Any]:
        """How many connections are still open (the server may have closed some)."""
        return {
            "alive": len(self.open_links()),
            "frames": sum(link.frames for link in self.links),
        }


async def sleep_until(deadline_ns: int | None) -> None:
    if deadline_ns is None:
        return
    delay = (deadline_ns - time.monotonic_ns()) / 1e9
    if delay > 0:
        await asyncio.sleep(delay)


async def read_line(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    line = await reader.readline()
    if not line:
        return None
    command: dict[str, Any] = json.loads(line)
    return command


def write(reply: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(reply, separators=(",", ":")) + "\n")
    sys.stdout.flush()


async def serve_commands() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    first = await read_line(reader)
    if first is None:
        return
    plan = Plan(**first)
    client = Client(plan)
    phases = {
        "open": client.open,
        "storm": client.storm,
        "chat": client.chat,
        "status": client.status,
    }
    try:
        while (command := await read_line(reader)) is not None:
            name = command["cmd"]
            if name == "close":
                break
            cpu_before = time.process_time()
            wall_before = time.monotonic()
            reply = await phases[name](command)
            reply["cpu_s"] = time.process_time() - cpu_before
            reply["wall_s"] = time.monotonic() - wall_before
            write({"phase": name, **reply})
    finally:
        client.abort_all()
    write({"phase": "close"})


def main() -> None:
    asyncio.run(serve_commands())


if __name__ == "__main__":
    main()
