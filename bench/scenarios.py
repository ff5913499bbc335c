"""The scenarios: what load each one offers, how long it lasts, and what it reports.

Each scenario runs against a freshly started server and is bounded in time: every phase has
a deadline, and the client processes stop waiting for deliveries when the drain time is up.
How big each one is: sizes.py; the server and client processes it runs on: stage.py.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bench import metrics
from bench.fleet import Fleet
from bench.procstat import memory_kb
from bench.sizes import Sizes
from bench.stage import KB_PER_MB, Stage

NS_PER_S = 1_000_000_000


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


async def posting(stage: Stage) -> dict[str, Any]:
    """One room whose every member sends as fast as its window allows: how many messages one
    process saves, acknowledges and pushes per second (each sender waits for its own)."""
    count = stage.sizes.posting_senders
    return await chat(
        stage, rooms=[0] * count, senders=range(count), rate=None, seconds=stage.sizes.flood_s
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
    "posting": posting,
    "handshakes": handshakes,
    "storm": storm,
}
