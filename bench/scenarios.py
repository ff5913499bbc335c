"""The scenarios: what load each one offers, how long it lasts, and what it reports.

Each scenario runs against a freshly started server and is bounded in time: every phase has
a deadline, and the client processes stop waiting for deliveries when the drain time is up.
"""

import asyncio
import contextlib
import os
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from bench import metrics
from bench.deployment import Deployment, room_slug
from bench.fleet import Fleet
from bench.processes import Server
from bench.procstat import Timeline, Window, memory_kb

NS_PER_S = 1_000_000_000
KB_PER_MB = 1024


@dataclass(frozen=True)
class Sizes:
    idle_connections: int = 10_000
    idle_hold_s: float = 30
    room_members: int = 1000
    room_rate: float = 20  # messages per second, all senders together
    room_senders: int = 10
    send_s: float = 15
    drain_s: float = 15
    quiet_s: float = 5  # stop draining after this long without a delivery
    flood_s: float = 10
    flood_window: int = 2  # messages a sender may have in flight in the -max scenarios
    chatty_rooms: int = 50
    chatty_members: int = 10
    chatty_rate: float = 200
    handshakes: int = 1000
    storm_connections: int = 1000
    # Handshakes in flight per client process while filling up: few enough that the slowest
    # target answers each within Daphne's 5 s connect timeout.
    open_concurrency: int = 25
    open_timeout: float = 60  # for one handshake
    clients: int = 2  # client processes
    wait_for_quiet_s: float = 60  # at most, for other processes on the machine to calm down
    settle_s: float = 2  # pause between phases, for the server to finish what it was doing

    @property
    def users(self) -> int:
        return max(
            self.idle_connections,
            self.room_members,
            self.chatty_rooms * self.chatty_members,
            self.handshakes,
            self.storm_connections,
        )

    @property
    def rooms(self) -> int:
        return self.chatty_rooms


FULL = Sizes()
QUICK = Sizes(
    idle_connections=300,
    idle_hold_s=1,
    room_members=100,
    room_rate=20,
    room_senders=5,
    send_s=1.5,
    drain_s=3,
    quiet_s=1,
    flood_s=1.5,
    chatty_rooms=5,
    chatty_members=10,
    chatty_rate=50,
    handshakes=200,
    storm_connections=200,
    open_timeout=20,
    wait_for_quiet_s=0,  # a smoke test: its numbers are not for publishing
    settle_s=0.5,
)


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


async def fill(stage: Stage, fleet: Fleet) -> dict[str, Any]:
    replies = await fleet.command(
        {"cmd": "open", "concurrency": stage.sizes.open_concurrency}, within=stage.fill_timeout
    )
    result = metrics.opened(replies)
    result["rooms"] = metrics.counter_sum(r["rooms"] for r in replies)
    return result


async def alive(fleet: Fleet) -> int:
    return sum(r["alive"] for r in await fleet.command({"cmd": "status"}, within=60))


async def idle(stage: Stage) -> dict[str, Any]:
    """Hold N quiet connections: memory per connection and CPU while nothing happens."""
    sizes = stage.sizes
    baseline_kb = memory_kb(stage.server.pid).get("VmRSS", 0)
    async with stage.fleet(stage.connections([0] * sizes.idle_connections)) as fleet:
        window = stage.window(fleet)
        opening = await fill(stage, fleet)
        opening_usage = window.stop()
        await asyncio.sleep(stage.sizes.settle_s)
        window = stage.window(fleet)
        await asyncio.sleep(sizes.idle_hold_s)
        holding = window.stop()
        loaded_kb = memory_kb(stage.server.pid).get("VmRSS", 0)
        still_open = await alive(fleet)
    return {
        "connections": opening,
        "opening_usage": opening_usage,
        "hold_s": sizes.idle_hold_s,
        "usage": holding,
        "rss_baseline_mb": round(baseline_kb / KB_PER_MB, 1),
        "rss_mb": round(loaded_kb / KB_PER_MB, 1),
        "kb_per_connection": metrics.per_connection_kb(
            baseline_kb=baseline_kb, loaded_kb=loaded_kb, connections=opening["opened"]
        ),
        "alive_after_hold": still_open,
    }


def spread_schedule(
    senders: Sequence[int], *, rate: float, seconds: float
) -> dict[str, dict[str, int]]:
    """Senders taking turns so that together they send `rate` messages per second."""
    each = rate / len(senders)
    every_ns = int(NS_PER_S / each)
    count = max(1, round(each * seconds))
    return {
        str(index): {
            "count": count,
            "every_ns": every_ns,
            "offset_ns": n * every_ns // len(senders),
        }
        for n, index in enumerate(senders)
    }


async def chat(
    stage: Stage,
    *,
    rooms: Sequence[int],
    senders: Sequence[int],
    rate: float | None,
    seconds: float,
) -> dict[str, Any]:
    """Members join their rooms; senders send at `rate` in total, or with `rate` None as fast
    as each one's window of unanswered messages allows; everyone counts what arrives."""
    sizes = stage.sizes
    connections = stage.connections(rooms)
    schedule = (
        spread_schedule(senders, rate=rate, seconds=seconds)
        if rate
        else {str(index): {"count": 0, "every_ns": 0, "offset_ns": 0} for index in senders}
    )
    planned: dict[str, int] = {}
    for index, plan in schedule.items():
        room = connections[int(index)]["room"]
        planned[room] = planned.get(room, 0) + plan["count"]
    async with stage.fleet(connections) as fleet:
        opening = await fill(stage, fleet)
        members: dict[str, int] = opening.pop("rooms")
        await asyncio.sleep(sizes.settle_s)
        start_ns = time.monotonic_ns() + NS_PER_S // 2
        end_ns = start_ns + int(seconds * NS_PER_S)
        command = {
            "cmd": "chat",
            "start_ns": start_ns,
            "end_ns": end_ns,
            "drain_ns": end_ns + int(sizes.drain_s * NS_PER_S),
            "quiet_ns": int(sizes.quiet_s * NS_PER_S),
            "window": 0 if rate else sizes.flood_window,
            "senders": schedule,
            "expected_per_room": planned if rate else {},
        }
        async with stage.timeline(fleet) as timeline:
            replies = await fleet.command(command, within=seconds + sizes.drain_s + 60)
        last_ns = max([end_ns, *(r["last_received_ns"] for r in replies)])
        usage = timeline.usage(start_ns, last_ns)
        rss = stage.rss_mb()
        still_open = await alive(fleet)
    result = metrics.delivered(replies, members=members, start_ns=start_ns, send_seconds=seconds)
    # Deliveries still arriving when the drain time ran out were late, not necessarily lost.
    late = last_ns >= end_ns + int((sizes.drain_s - sizes.quiet_s) * NS_PER_S)
    result["cut_off"] = late and result["received"] < result["expected"]
    return {
        "connections": opening,
        "members": sum(members.values()),
        "rooms": len(members),
        "senders": len(senders),
        "offered_messages_per_second": rate,
        **result,
        "usage": usage,
        "rss_mb": rss,
        "alive_after": still_open,
    }


async def room(stage: Stage) -> dict[str, Any]:
    """One big room at a fixed message rate."""
    sizes = stage.sizes
    members, count = sizes.room_members, sizes.room_senders
    return await chat(
        stage,
        rooms=[0] * members,
        senders=[n * members // count for n in range(count)],
        rate=sizes.room_rate,
        seconds=sizes.send_s,
    )


async def room_max(stage: Stage) -> dict[str, Any]:
    """The same room, each sender sending again as soon as its own message comes back."""
    sizes = stage.sizes
    members, count = sizes.room_members, sizes.room_senders
    return await chat(
        stage,
        rooms=[0] * members,
        senders=[n * members // count for n in range(count)],
        rate=None,
        seconds=sizes.flood_s,
    )


def chatty_rooms(sizes: Sizes) -> list[int]:
    return [n // sizes.chatty_members for n in range(sizes.chatty_rooms * sizes.chatty_members)]


async def chatty(stage: Stage) -> dict[str, Any]:
    """Many small rooms, every member sending, at a fixed total rate."""
    rooms = chatty_rooms(stage.sizes)
    return await chat(
        stage,
        rooms=rooms,
        senders=range(len(rooms)),
        rate=stage.sizes.chatty_rate,
        seconds=stage.sizes.send_s,
    )


async def chatty_max(stage: Stage) -> dict[str, Any]:
    """The same rooms, every member sending as fast as its window allows."""
    rooms = chatty_rooms(stage.sizes)
    return await chat(
        stage, rooms=rooms, senders=range(len(rooms)), rate=None, seconds=stage.sizes.flood_s
    )


async def handshakes(stage: Stage) -> dict[str, Any]:
    """N handshakes started at the same instant: how fast they complete, and how many fail."""
    count = stage.sizes.handshakes
    async with stage.fleet(stage.connections([0] * count)) as fleet:
        await fleet.command({"cmd": "status"}, within=30)  # every process is ready
        at_ns = time.monotonic_ns() + NS_PER_S // 2
        async with stage.timeline(fleet) as timeline:
            replies = await fleet.command(
                {"cmd": "open", "concurrency": 0, "at_ns": at_ns}, within=stage.fill_timeout
            )
        usage = timeline.usage(at_ns, max(r["finished_ns"] for r in replies))
        await asyncio.sleep(stage.sizes.settle_s)
        still_open = await alive(fleet)
    result = metrics.opened(replies, since_ns=at_ns)
    return {"connections": result, "usage": usage, "alive_after": still_open}


async def storm(stage: Stage) -> dict[str, Any]:
    """N connected; every connection drops at once and reconnects at once."""
    count = stage.sizes.storm_connections
    async with stage.fleet(stage.connections([0] * count)) as fleet:
        opening = await fill(stage, fleet)
        opening.pop("rooms")
        await asyncio.sleep(stage.sizes.settle_s)
        at_ns = time.monotonic_ns() + NS_PER_S // 2
        async with stage.timeline(fleet) as timeline:
            replies = await fleet.command(
                {"cmd": "storm", "at_ns": at_ns}, within=stage.fill_timeout
            )
        usage = timeline.usage(at_ns, max(r["finished_ns"] for r in replies))
        await asyncio.sleep(stage.sizes.settle_s + 1)
        still_open = await alive(fleet)
    result = metrics.opened(replies, since_ns=at_ns)
    result["dropped"] = sum(r["dropped"] for r in replies)
    return {"connections": opening, "reconnect": result, "usage": usage, "alive_after": still_open}


Scenario = Callable[[Stage], Awaitable[dict[str, Any]]]

SCENARIOS: dict[str, Scenario] = {
    "idle": idle,
    "room": room,
    "room-max": room_max,
    "chatty": chatty,
    "chatty-max": chatty_max,
    "handshakes": handshakes,
    "storm": storm,
}

# Anchored: Daphne's own log handler may repeat the line with a timestamp in front.
DROPPED = re.compile(r"^(\d+) of \d+ channels over capacity", re.MULTILINE)
PROBLEM = re.compile(r"Traceback|ERROR|CRITICAL|Exception|Error:")


def log_findings(text: str, *, samples: int = 5) -> dict[str, Any]:
    """What the server logged that matters here: layer drops, errors and tracebacks."""
    lines = text.splitlines()
    problems = [line.strip() for line in lines if PROBLEM.search(line)]
    distinct: list[str] = []
    for line in problems:
        short = line[:240]
        if short not in distinct:
            distinct.append(short)
    return {
        "channel_layer_drops": sum(int(m.group(1)) for m in DROPPED.finditer(text)),
        "tracebacks": sum("Traceback" in line for line in lines),
        "problem_lines": len(problems),
        "samples": distinct[:samples],
    }
