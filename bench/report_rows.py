"""What each scenario's results table shows: its rows, title and description, and a one-line
progress summary for the terminal; with the value formatting they share.
"""

from collections.abc import Callable, Mapping
from typing import Any

MISSING = "—"

Result = Mapping[str, Any]
Row = tuple[str, Callable[[Result], object]]


def dig(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, Mapping) or key not in data:
            return None
        data = data[key]
    return data


def number(value: object) -> str:
    if value is None:
        return MISSING
    if isinstance(value, float):
        if value >= 1000:
            return f"{value:,.0f}"
        return f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def spread(summary: object) -> str:
    """p50 / p90 / p99 / max of a summary."""
    if not isinstance(summary, Mapping):
        return MISSING
    return " / ".join(number(summary.get(key)) for key in ("p50", "p90", "p99", "max"))


def failures(found: object) -> str:
    if not isinstance(found, Mapping) or not found:
        return "none"
    return ", ".join(f"{reason}: {count}" for reason, count in sorted(found.items()))


def cpu(r: Result, group: str) -> object:
    return dig(r, "usage", f"{group}_cpu_percent")


def log_summary(r: Result) -> str:
    log = r.get("server_log") or {}
    return f"{log.get('problem_lines', 0)} / {log.get('tracebacks', 0)}"


CHAT_ROWS: list[Row] = [
    ("members / rooms / senders", lambda r: f"{r['members']} / {r['rooms']} / {r['senders']}"),
    (
        "messages sent (per s)",
        lambda r: f"{number(r['messages_sent'])} ({r['messages_per_second']})",
    ),
    ("deliveries expected", lambda r: number(r["expected"])),
    ("deliveries received", lambda r: number(r["received"])),
    ("**delivery ratio**", lambda r: f"**{r['ratio']:.3f}**"),
    ("duplicates / out of order", lambda r: f"{r['duplicates']} / {r['out_of_order']}"),
    ("still arriving when the drain time ran out", lambda r: "yes" if r["cut_off"] else "no"),
    ("**deliveries/s**", lambda r: f"**{number(r['deliveries_per_second'])}**"),
    ("latency ms p50 / p90 / p99 / max", lambda r: spread(r["latency_ms"])),
    ("server CPU %", lambda r: number(cpu(r, "server"))),
    ("Redis CPU %", lambda r: number(cpu(r, "redis"))),
    ("PostgreSQL CPU % (all its processes)", lambda r: number(cpu(r, "postgres"))),
    ("client CPU % (all client processes)", lambda r: number(cpu(r, "clients"))),
    ("other processes' CPU % (shared machine)", lambda r: number(cpu(r, "others"))),
    ("acks / rejected sends (app only)", lambda r: f"{r['acks']} / {r['rejections']}"),
    (
        "drops logged by channels-redis",
        lambda r: number(dig(r, "server_log", "channel_layer_drops")),
    ),
    ("connections still open after", lambda r: number(r["alive_after"])),
]

ROWS: dict[str, list[Row]] = {
    "idle": [
        (
            "connections opened / attempted",
            lambda r: (
                f"{number(r['connections']['opened'])} / {number(r['connections']['attempted'])}"
            ),
        ),
        ("failed handshakes", lambda r: failures(r["connections"]["failures"])),
        ("handshakes/s while filling", lambda r: number(r["connections"]["per_second"])),
        ("server RSS before → held (MB)", lambda r: f"{r['rss_baseline_mb']} → {r['rss_mb']}"),
        ("**memory per connection (KB)**", lambda r: f"**{number(r['kb_per_connection'])}**"),
        ("**server CPU % while held**", lambda r: f"**{number(cpu(r, 'server'))}**"),
        ("Redis CPU % while held", lambda r: number(cpu(r, "redis"))),
        ("client CPU % while held", lambda r: number(cpu(r, "clients"))),
        ("other processes' CPU % (shared machine)", lambda r: number(cpu(r, "others"))),
        ("connections still open after the hold", lambda r: number(r["alive_after_hold"])),
    ],
    "room": CHAT_ROWS,
    "room-max": CHAT_ROWS,
    "chatty": CHAT_ROWS,
    "chatty-max": CHAT_ROWS,
    "posting": CHAT_ROWS,
    "handshakes": [
        (
            "opened / attempted",
            lambda r: (
                f"{number(r['connections']['opened'])} / {number(r['connections']['attempted'])}"
            ),
        ),
        ("failed handshakes", lambda r: failures(r["connections"]["failures"])),
        ("**HTTP 500s**", lambda r: f"**{number(r['connections']['http_500'])}**"),
        ("time until all answered (s)", lambda r: number(r["connections"]["seconds"])),
        ("**handshakes/s**", lambda r: f"**{number(r['connections']['per_second'])}**"),
        ("connect ms p50 / p90 / p99 / max", lambda r: spread(r["connections"]["connect_ms"])),
        ("server CPU %", lambda r: number(cpu(r, "server"))),
        ("client CPU %", lambda r: number(cpu(r, "clients"))),
        ("other processes' CPU % (shared machine)", lambda r: number(cpu(r, "others"))),
        ("connections still open after", lambda r: number(r["alive_after"])),
    ],
    "storm": [
        (
            "connected before the drop",
            lambda r: (
                f"{number(r['connections']['opened'])} / {number(r['connections']['attempted'])}"
            ),
        ),
        (
            "reconnected / dropped",
            lambda r: f"{number(r['reconnect']['opened'])} / {number(r['reconnect']['dropped'])}",
        ),
        ("failed reconnects", lambda r: failures(r["reconnect"]["failures"])),
        ("**time until all back (s)**", lambda r: f"**{number(r['reconnect']['seconds'])}**"),
        ("reconnect ms p50 / p90 / p99 / max", lambda r: spread(r["reconnect"]["connect_ms"])),
        ("server CPU %", lambda r: number(cpu(r, "server"))),
        ("other processes' CPU % (shared machine)", lambda r: number(cpu(r, "others"))),
        ("connections still open after", lambda r: number(r["alive_after"])),
    ],
}
COMMON_ROWS: list[Row] = [
    ("server log: problem lines / tracebacks", log_summary),
    ("scenario wall time (s)", lambda r: number(r.get("seconds"))),
]

TITLES = {
    "idle": "Idle hold",
    "room": "One big room at a fixed rate",
    "room-max": "One big room, as fast as it goes",
    "chatty": "Chatty rooms through Redis, fixed rate",
    "chatty-max": "Chatty rooms, as fast as they go",
    "posting": "Posting capacity: one room, every member sending",
    "handshakes": "Concurrent handshakes",
    "storm": "Reconnect storm",
}


def describe_scenario(name: str, sizes: Mapping[str, Any]) -> str:
    s = sizes
    descriptions = {
        "idle": f"{s['idle_connections']:,} connections opened ({s['open_concurrency']} "
        f"handshakes in flight per client process), then held idle for {s['idle_hold_s']:g} s. "
        "Memory per connection = (RSS held - RSS after warm-up) / connections.",
        "room": f"{s['room_members']:,} members in one room; {s['room_senders']} of them send "
        f"{s['room_rate']:g} messages/s in total for {s['send_s']:g} s (drain up to "
        f"{s['drain_s']:g} s).",
        "room-max": f"{s['room_members']:,} members in one room; {s['room_senders']} senders each "
        f"keep {s['flood_window']} messages in flight (send again when their own message comes "
        f"back, or after 1 s) for {s['flood_s']:g} s: the server's fan-out capacity.",
        "chatty": f"{s['chatty_rooms']} rooms x {s['chatty_members']} members, every member "
        f"sending; {s['chatty_rate']:g} messages/s in total for {s['send_s']:g} s.",
        "chatty-max": f"{s['chatty_rooms']} rooms x {s['chatty_members']} members, every member "
        f"keeping {s['flood_window']} messages in flight for {s['flood_s']:g} s.",
        "posting": f"{s['posting_senders']} members in one room, every one keeping "
        f"{s['flood_window']} messages in flight for {s['flood_s']:g} s: messages/s is the "
        "posting capacity (the app saves each and answers its sender after the commit).",
        "handshakes": f"{s['handshakes']:,} handshakes started at the same instant (split over "
        f"{s['clients']} client processes).",
        "storm": f"{s['storm_connections']:,} connections open; all dropped at once (TCP closed "
        "without a close frame) and reconnected at once.",
    }
    return descriptions.get(name, "")


def one_line(name: str, result: Result) -> str:
    """A progress line for the terminal."""
    if not result.get("ok"):
        return f"failed ({result.get('error')})"
    if name == "idle":
        return (
            f"{result['connections']['opened']} open, {result['kb_per_connection']} KB/conn, "
            f"server CPU {cpu(result, 'server')} %"
        )
    if name in ("handshakes",):
        c = result["connections"]
        opened = f"{c['opened']}/{c['attempted']} in {c['seconds']} s"
        return f"{opened}, failures {failures(c['failures'])}"
    if name == "storm":
        c = result["reconnect"]
        back = f"{c['opened']}/{c['dropped']} back in {c['seconds']} s"
        return f"{back}, failures {failures(c['failures'])}"
    return (
        f"ratio {result['ratio']}, {result['deliveries_per_second']} deliveries/s, "
        f"p99 {result['latency_ms']['p99']} ms, server CPU {cpu(result, 'server')} %"
    )
