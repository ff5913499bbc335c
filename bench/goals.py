"""The issue's targets, judged on the project's numbers against its peers': each a goal, what
was measured, and met, missed or not measured.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from bench.report_rows import MISSING, Result, dig, number


def by_target(documents: Sequence[Result]) -> dict[str, Result]:
    return {d["target"]: d for d in documents}


def same_run(docs: Mapping[str, Result], *targets: str) -> bool:
    """Whether the targets' results come from one run (a ratio of two runs compares machines
    as much as servers)."""
    return len({dig(docs.get(target), "run") for target in targets}) == 1


def ratio_text(numerator: object, denominator: object) -> tuple[str, float | None]:
    if not isinstance(numerator, int | float) or not isinstance(denominator, int | float):
        return MISSING, None
    if not denominator:
        return MISSING, None
    value = numerator / denominator
    return f"{number(numerator)} vs {number(denominator)} = {value:.2f}x", value


def verdict(met: bool | None) -> str:
    return "not measured" if met is None else ("**met**" if met else "**missed**")


def checks(documents: Sequence[Result]) -> list[list[str]]:
    """The issue's targets, judged on the project's numbers against its peers'."""
    docs = by_target(documents)

    def get(target: str, *path: str) -> Any:
        scenario = dig(docs.get(target), "scenarios", path[0])
        if not isinstance(scenario, Mapping) or not scenario.get("ok"):
            return None
        return dig(scenario, *path[1:])

    rows: list[list[str]] = []

    def add(goal: str, measured: str, met: bool | None) -> None:
        rows.append([goal, measured, verdict(met)])

    room_ratio = get("app", "room", "ratio")
    add(
        "Big room: every delivery arrives (ratio 1.0)",
        number(room_ratio),
        None if room_ratio is None else room_ratio >= 1.0,
    )
    text, value = ratio_text(
        get("app", "room-max", "deliveries_per_second"),
        get("bare", "room-max", "deliveries_per_second"),
    )
    add(
        "Big room: deliveries/s ≥ 0.5x bare Daphne (room-max)",
        text,
        None if value is None else value >= 0.5,
    )
    text, value = ratio_text(
        get("app-uvicorn", "room", "latency_ms", "p99"),
        get("websockets", "room", "latency_ms", "p99"),
    )
    if value is not None and not same_run(docs, "app-uvicorn", "websockets"):
        text, value = f"{text}, but from different runs", None
    add("Big room on uvicorn: p99 ≤ 3x raw websockets", text, None if value is None else value <= 3)
    chatty_ratio = get("app", "chatty", "ratio")
    add(
        "Chatty rooms: ratio 1.0",
        number(chatty_ratio),
        None if chatty_ratio is None else chatty_ratio >= 1.0,
    )
    text, value = ratio_text(
        get("app", "chatty-max", "deliveries_per_second"),
        get("tutorial", "chatty-max", "deliveries_per_second"),
    )
    add(
        "Chatty rooms: ≥ 6x the tutorial's deliveries/s (chatty-max)",
        text,
        None if value is None else value >= 6,
    )
    posted = get("app", "posting", "messages_per_second")
    acks = get("app", "posting", "acks")
    sent = get("app", "posting", "messages_sent")
    add(
        "Posting: ≥ 1,000 durable messages/s, 50 senders in one room (posting)",
        f"{number(posted)} messages/s, {number(acks)} of {number(sent)} acknowledged",
        None if posted is None else posted >= 1000 and acks == sent,
    )
    kb = get("app", "idle", "kb_per_connection")
    held = get("app", "idle", "connections", "opened")
    add(
        "Idle: ≤ 25 KB per connection",
        f"{number(kb)} KB at {number(held)} connections",
        None if kb is None else kb <= 25,
    )
    idle_cpu = get("app", "idle", "usage", "server_cpu_percent")
    add(
        "Idle: ≤ 3% CPU at 10k connections, one process",
        f"{number(idle_cpu)} % at {number(held)} connections",
        None if idle_cpu is None else idle_cpu <= 3 and (held or 0) >= 10_000,
    )
    # Sockets that open and stay open, at a steady 25 handshakes in flight per client process
    # (the idle fill): the burst scenario also counts sockets the app accepts only to refuse.
    text, value = ratio_text(
        get("app", "idle", "connections", "per_second"),
        get("tutorial", "idle", "connections", "per_second"),
    )
    add(
        "Handshakes: ≥ 2x the tutorial's connections/s (idle fill)",
        text,
        None if value is None else value >= 2,
    )
    errors = get("app", "handshakes", "connections", "http_500")
    failed = get("app", "handshakes", "connections", "failed")
    attempted = get("app", "handshakes", "connections", "attempted")
    kept = get("app", "handshakes", "alive_after")
    add(
        "Handshakes: no 500s (nor other failures) at 1,000 concurrent",
        f"{number(errors)} HTTP 500s, {number(failed)} failed, {number(kept)} of "
        f"{number(attempted)} open after (the rest refused with 1013, to retry)",
        None
        if errors is None
        else errors == failed == 0 and kept == attempted and (attempted or 0) >= 1000,
    )
    return rows
