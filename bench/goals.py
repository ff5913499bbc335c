"""The issue's targets, judged on the project's numbers against its peers': each a goal, what
was measured, and met, missed or not measured.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from bench.report_rows import MISSING, Result, dig, number


def by_target(documents: Sequence[Result]) -> dict[str, Result]:
    return {d["target"]: d for d in documents}


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

    # Sockets that open and stay open, at a steady 25 handshakes in flight per client process
    # (the idle fill): the burst scenario also counts sockets the app accepts only to refuse.
    text, value = ratio_text(
        get("app", "idle", "connections", "per_second"),
        get("tutorial", "idle", "connections", "per_second"),
    )
    add(
        "Sockets opened per second ≥ 1.5x the tutorial's (idle fill)",
        text,
        None if value is None else value >= 1.5,
    )
    dropped = get("app", "storm", "reconnect", "dropped")
    back = get("app", "storm", "reconnect", "opened")
    seconds = get("app", "storm", "reconnect", "seconds")
    kept = get("app", "storm", "alive_after")
    add(
        "Reconnect storm: 10,000 dropped at once all open again within 15 s, none refused",
        f"{number(back)} of {number(dropped)} answered within {number(seconds)} s, "
        f"{number(kept)} open at the end",
        None
        if dropped is None or seconds is None
        else dropped >= 10_000 and back == kept == dropped and seconds <= 15,
    )
    chatty_ratio = get("app", "chatty-max", "ratio")
    text, value = ratio_text(
        get("app", "chatty-max", "deliveries_per_second"),
        get("tutorial", "chatty-max", "deliveries_per_second"),
    )
    add(
        "Chatty rooms (chatty-max): ratio 1.0 and ≥ 3x the tutorial's deliveries/s",
        f"ratio {number(chatty_ratio)}; {text}",
        None if value is None or chatty_ratio is None else chatty_ratio >= 1.0 and value >= 3,
    )
    p99 = get("app", "chatty", "latency_ms", "p99")
    add(
        "Chatty rooms at 200 messages/s (chatty): p99 ≤ 250 ms",
        f"{number(p99)} ms",
        None if p99 is None else p99 <= 250,
    )
    posted = get("app", "posting", "messages_per_second")
    acks = get("app", "posting", "acks")
    sent = get("app", "posting", "messages_sent")
    add(
        "Posting: ≥ 1,000 durable messages/s, 50 senders in one room (posting)",
        f"{number(posted)} messages/s, {number(acks)} of {number(sent)} acknowledged",
        None if posted is None else posted >= 1000 and acks == sent,
    )
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
    kb = get("app", "idle", "kb_per_connection")
    held = get("app", "idle", "connections", "opened")
    add(
        "Idle: ≤ 25 KB per connection",
        f"{number(kb)} KB at {number(held)} connections",
        None if kb is None else kb <= 25,
    )
    return rows
