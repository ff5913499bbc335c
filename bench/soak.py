"""Server memory under socket churn and under clients that stop reading.

    python -m bench.soak churn --cycles 3000
    python -m bench.soak slow-readers --readers 20 --messages 3000

Each run starts what it measures on this machine and stops it afterwards: a redis-server on
a free port, a scratch PostgreSQL database on 127.0.0.1:5432 (dropped at the end) and one
Daphne process started as the Dockerfile starts it. It prints the Daphne process's resident
memory (RSS) as the run goes, and a summary. Results: docs/soak.md.

- churn: sockets open and close in batches (a third close cleanly, a third drop the TCP
  connection once the page is live, a third drop it at once). RSS after the cycles is
  compared with RSS after a warm-up of the same kind.
- slow-readers: sockets whose clients stop reading (a 4 KiB receive buffer, nothing read)
  sit in a room that is flooded with messages; one healthy reader counts what it receives.
"""

import argparse
import asyncio
import contextlib
import csv
import http.client
import json
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis
from channels_redis.core import RedisChannelLayer
from websockets.asyncio.client import ClientConnection, connect

from bench.deployment import app_env, base_env, manage
from bench.processes import free_port, stop_process, wait_for_port
from bench.procstat import rss_kb
from bench.services import postgres_database
from bench.targets import LOCALHOST, PYTHON

ROOT = Path(__file__).resolve().parent.parent
# As the Dockerfile starts Daphne.
DAPHNE_OPTIONS = ["--websocket-max-message-size", "65536", "--websocket-max-frame-size", "65536"]
METRICS_TOKEN = secrets.token_urlsafe(16)
GAUGES = ("relay_open_sockets", "relay_group_memberships", "relay_subscribed_groups")
RUN_LIMIT_SECONDS = 900


@dataclass
class Site:
    port: int
    pid: int
    sessions: list[str]
    redis_url: str
    database_url: str

    @property
    def origin(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    def rss_mib(self) -> float:
        return rss_kb(self.pid) / 1024

    def gauges(self) -> dict[str, float]:
        connection = http.client.HTTPConnection(LOCALHOST, self.port, timeout=10)
        try:
            connection.request(
                "GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
            )
            text = connection.getresponse().read().decode()
        finally:
            connection.close()
        found = {}
        for name in GAUGES:
            match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
            found[name] = float(match.group(1)) if match else -1.0
        return found


@contextlib.contextmanager
def site(*, users: int, extra_env: dict[str, str]) -> Iterator[Site]:
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="soak-")))
        redis_port = free_port()
        redis_command = ["redis-server", "--bind", LOCALHOST, "--port", str(redis_port)]
        redis_server = subprocess.Popen(  # noqa: S603 - our own command line
            [*redis_command, "--save", "", "--appendonly", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL,
        )
        stack.callback(stop_process, redis_server)
        wait_for_port(redis_port, redis_server)
        database_url = stack.enter_context(postgres_database())
        env = {
            **base_env(),
            **app_env(database_url, 0, workdir / "static"),
            "REDIS_URL": f"redis://{LOCALHOST}:{redis_port}/0",
            "METRICS_TOKEN": METRICS_TOKEN,
            **extra_env,
        }
        manage(env, ROOT, "migrate", "--noinput")
        manage(env, ROOT, "load_demo_data")
        users_csv = workdir / "users.csv"
        manage(env, ROOT, "loadtest_users", f"--count={users}", f"--output={users_csv}")
        with open(users_csv, newline="") as rows:
            sessions = [session for _, session in csv.reader(rows)]
        port = free_port()
        daphne_command = [PYTHON, "-m", "daphne", "-b", LOCALHOST, "-p", str(port)]
        daphne = subprocess.Popen(  # noqa: S603 - our own command line
            [*daphne_command, *DAPHNE_OPTIONS, "realtime.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=open(workdir / "daphne.log", "ab"),  # noqa: SIM115 - the child owns it
            stderr=subprocess.STDOUT,
        )
        stack.callback(stop_process, daphne)
        wait_for_port(port, daphne)
        yield Site(
            port=port,
            pid=daphne.pid,
            sessions=sessions,
            redis_url=env["REDIS_URL"],
            database_url=database_url,
        )


async def open_socket(
    where: Site, session: str, room: str, *, sock: socket.socket | None = None
) -> ClientConnection:
    kwargs = {"sock": sock} if sock is not None else {}
    return await connect(
        f"ws://{LOCALHOST}:{where.port}/ws/?room={room}",
        additional_headers={"Origin": where.origin, "Cookie": f"sessionid={session}"},
        open_timeout=30,
        close_timeout=5,
        **kwargs,  # type: ignore[arg-type]
    )


async def one_cycle(where: Site, session: str, n: int) -> None:
    socket_ = await open_socket(where, session, ("general", "random", "django")[n % 3])
    match n % 3:
        case 0:
            await socket_.recv()
            await socket_.close()
        case 1:
            await socket_.recv()
            socket_.transport.abort()
        case _:
            socket_.transport.abort()


async def settle(where: Site) -> dict[str, float]:
    """Wait until every socket is released (at most 30 s); the gauges then."""
    deadline = time.monotonic() + 30
    while True:
        gauges = await asyncio.to_thread(where.gauges)
        if set(gauges.values()) == {0.0} or time.monotonic() > deadline:
            await asyncio.sleep(2)  # let the allocator and the layer settle
            return gauges
        await asyncio.sleep(0.5)


async def churn(where: Site, *, cycles: int, at_once: int, warmup: int) -> None:
    print(f"churn: {cycles} cycles, {at_once} at once, after a warm-up of {warmup}")
    started = time.monotonic()
    print(f"{'cycles':>8} {'RSS MiB':>8}")
    print(f"{0:>8} {where.rss_mib():>8.1f}   (idle)")

    async def run(first: int, count: int) -> None:
        for start in range(first, first + count, at_once):
            batch = range(start, min(start + at_once, first + count))
            sessions = where.sessions
            await asyncio.gather(*(one_cycle(where, sessions[n % len(sessions)], n) for n in batch))

    await run(0, warmup)
    await settle(where)
    baseline = where.rss_mib()
    print(f"{warmup:>8} {baseline:>8.1f}   (baseline, after the warm-up)")
    step = max(at_once, cycles // 10)
    for done in range(0, cycles, step):
        await run(warmup + done, min(step, cycles - done))
        print(f"{warmup + done + step:>8} {where.rss_mib():>8.1f}")
    gauges = await settle(where)
    final = where.rss_mib()
    print(f"{'settled':>8} {final:>8.1f}   {gauges}")
    with redis.Redis.from_url(where.redis_url) as client:
        group_keys = len(list(client.scan_iter("asgi:group:*")))
    print(
        f"RSS after {cycles} cycles: {final:.1f} MiB, baseline {baseline:.1f} MiB "
        f"({final - baseline:+.1f} MiB); Redis group keys left: {group_keys}; "
        f"{time.monotonic() - started:.0f} s"
    )


def room_id(database_url: str, slug: str) -> int:
    with psycopg.connect(database_url) as connection:
        row = connection.execute("SELECT id FROM chat_room WHERE slug = %s", [slug]).fetchone()
    assert row is not None
    return int(str(row[0]))


def stalled_socket() -> socket.socket:
    """A connected TCP socket whose receive buffer is as small as the kernel allows."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return sock


async def slow_readers(where: Site, *, readers: int, messages: int, size: int, rate: int) -> None:
    print(f"slow-readers: {readers} stalled sockets, {messages} messages of {size} B at {rate}/s")
    started = time.monotonic()
    stalled = []
    for session in where.sessions[1 : readers + 1]:
        sock = stalled_socket()
        await asyncio.to_thread(sock.connect, (LOCALHOST, where.port))
        # max_queue=1: the client library stops reading once one message waits unread.
        socket_ = await connect(
            f"ws://{LOCALHOST}:{where.port}/ws/?room=general",
            additional_headers={"Origin": where.origin, "Cookie": f"sessionid={session}"},
            sock=sock,
            max_queue=1,
            open_timeout=30,
        )
        stalled.append(socket_)
    healthy = await open_socket(where, where.sessions[0], "general")
    received = 0

    async def read() -> None:
        nonlocal received
        with contextlib.suppress(Exception):
            while True:
                if "flood-" in await healthy.recv():
                    received += 1

    reader = asyncio.create_task(read())
    group = f"chat.room.{room_id(where.database_url, 'general')}"
    print(f"{'seconds':>8} {'sent':>6} {'RSS MiB':>8} {'open sockets':>13}")
    baseline = where.rss_mib()
    peak = baseline
    print(f"{0:>8.1f} {0:>6} {baseline:>8.1f} {readers + 1:>13}")
    html = '<div hx-swap-oob="beforeend:#messages">' + "x" * size + "</div>"
    channel_layer = RedisChannelLayer(hosts=[where.redis_url])
    sent = 0
    next_report = time.monotonic() + 1
    while sent < messages:
        body = f"flood-{sent} {html}"
        await channel_layer.group_send(
            group, {"type": "html.push", "group": group, "html": body, "sent_at": time.time()}
        )
        sent += 1
        await asyncio.sleep(1 / rate)
        if time.monotonic() >= next_report:
            next_report += 1
            rss = where.rss_mib()
            peak = max(peak, rss)
            sockets = (await asyncio.to_thread(where.gauges))["relay_open_sockets"]
            print(f"{time.monotonic() - started:>8.1f} {sent:>6} {rss:>8.1f} {sockets:>13.0f}")
    await asyncio.sleep(3)
    final = where.rss_mib()
    sockets = (await asyncio.to_thread(where.gauges))["relay_open_sockets"]
    reader.cancel()
    for socket_ in stalled:
        socket_.transport.abort()
    await healthy.close()
    print(
        f"sent {sent} messages ({sent * size / 2**20:.0f} MiB to each reader); the healthy "
        f"reader received {received}; sockets still open: {sockets:.0f} of {readers + 1}; "
        f"RSS {baseline:.1f} -> peak {peak:.1f} -> {final:.1f} MiB; "
        f"{time.monotonic() - started:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    scenarios = parser.add_subparsers(dest="scenario", required=True)
    churn_args = scenarios.add_parser("churn")
    churn_args.add_argument("--cycles", type=int, default=3000)
    churn_args.add_argument("--at-once", type=int, default=50)
    churn_args.add_argument("--warmup", type=int, default=500)
    slow_args = scenarios.add_parser("slow-readers")
    slow_args.add_argument("--readers", type=int, default=20)
    slow_args.add_argument("--messages", type=int, default=3000)
    slow_args.add_argument("--size", type=int, default=4000, help="bytes per message")
    slow_args.add_argument("--rate", type=int, default=200, help="messages per second")
    slow_args.add_argument(
        "--send-buffer-bytes",
        help="SOCKET_SEND_BUFFER_BYTES for the server (default: the project's); a huge value "
        "such as 10**12 shows Daphne without the bound",
    )
    args = parser.parse_args()

    extra_env = {
        # These runs reconnect one account far faster than a person would.
        "SOCKET_CONNECT_BURST": "1000000",
        "SOCKETS_PER_USER": "1000",
    }
    if getattr(args, "send_buffer_bytes", None):
        extra_env["SOCKET_SEND_BUFFER_BYTES"] = str(args.send_buffer_bytes)
    users = 3 if args.scenario == "churn" else args.readers + 1
    print(f"Python {sys.version.split()[0]}; Daphne with {' '.join(DAPHNE_OPTIONS)}; {extra_env}")
    with site(users=users, extra_env=extra_env) as where:
        if args.scenario == "churn":
            work = churn(where, cycles=args.cycles, at_once=args.at_once, warmup=args.warmup)
        else:
            work = slow_readers(
                where, readers=args.readers, messages=args.messages, size=args.size, rate=args.rate
            )
        asyncio.run(asyncio.wait_for(work, RUN_LIMIT_SECONDS))
    print(json.dumps({"scenario": args.scenario, "finished": time.strftime("%Y-%m-%d %H:%M")}))


if __name__ == "__main__":
    main()
