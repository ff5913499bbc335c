"""Where an idle page socket's memory goes: a census of the server process.

    python -m bench.census --connections 500 --redis-db 11

The project is deployed as the benchmark deploys it (PostgreSQL, Redis, signed-in users: one
per socket) and served by Daphne twice on 127.0.0.1. The first server runs as the benchmark
runs it, and gives the RSS per socket. The second traces every allocation (tracemalloc):
`--warm` sockets open first, so that what the first sockets load is not counted; then the
traced memory is snapshotted, `--connections` more sockets open as a room page opens them, and a
second snapshot is compared with the first. Each allocation still held is attributed to
where it was made (the innermost frame, and the project's innermost frames that led to it)
and the table gives bytes per socket by site, largest first.

It measures one process on a quiet machine; unlike `python -m bench` it does not compare
targets, and its tracing slows the traced server down. Not a benchmark: a map of what to cut.
"""

import argparse
import asyncio
import contextlib
import gc
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path

from daphne.cli import CommandLineInterface
from websockets.asyncio.client import ClientConnection, connect

from bench.deployment import Deployment, deploy, room_slug
from bench.processes import free_port, stop_process, wait_for_port
from bench.procstat import memory_kb
from bench.targets import APP_DAPHNE_OPTIONS, LISTEN_BACKLOG, LOCALHOST, PYTHON, ROOT, TARGETS

SETTLE_SECONDS = 2.0
# Where a library's or the standard library's modules start in a file's path.
LIBRARY_PATH = re.compile(r".*/(site-packages|lib/python3\.\d+t?)/")


def serve(path: str, frames: int, daphne_args: list[str]) -> None:
    """Daphne, tracing allocations (`frames` deep); SIGUSR1 writes a snapshot to `path`,
    after a full collection."""
    tracemalloc.start(frames)

    def dump(signum: int, frame: object) -> None:
        gc.collect()
        snapshot = tracemalloc.take_snapshot()
        snapshot.dump(f"{path}.part")
        os.replace(f"{path}.part", path)

    signal.signal(signal.SIGUSR1, dump)
    CommandLineInterface().run(daphne_args)


def daphne_args(port: int, *, traced: bool) -> list[str]:
    endpoint = f"tcp:port={port}:interface={LOCALHOST}:backlog={LISTEN_BACKLOG}"
    options = list(APP_DAPHNE_OPTIONS)
    if traced:
        # Tracing slows the first handshakes (imports, first queries) past Daphne's 5 s.
        options[options.index("--websocket_connect_timeout") + 1] = "120"
    return ["-e", endpoint, *options, "realtime.asgi:application"]


@contextlib.contextmanager
def server(
    deployment: Deployment, *, traced: Path | None, frames: int
) -> Iterator[tuple[int, int]]:
    """Daphne serving the project on a free port: (port, pid); stopped by its pid."""
    port = free_port()
    if traced is None:
        command = [PYTHON, "-m", "daphne", *daphne_args(port, traced=False)]
    else:
        serve = [PYTHON, "-m", "bench.census", "serve", str(traced), str(frames)]
        command = [*serve, *daphne_args(port, traced=True)]
    log = deployment.log_dir / ("traced.log" if traced else "server.log")
    with open(log, "ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            command, cwd=ROOT, env=deployment.env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            wait_for_port(port, process, timeout=30 if traced is None else 300)
            yield port, process.pid
            if process.poll() is not None:
                raise RuntimeError(f"the server exited early; see {log}")
        finally:
            stop_process(process)


async def open_sockets(
    port: int, cookies: Sequence[str], *, concurrency: int = 50
) -> list[ClientConnection]:
    limit = asyncio.Semaphore(concurrency)
    path = TARGETS["app"].socket_path(room_slug(0))

    async def one(cookie: str) -> ClientConnection:
        async with limit:
            socket = await connect(
                f"ws://{LOCALHOST}:{port}{path}",
                additional_headers={
                    "Origin": f"http://{LOCALHOST}:{port}",
                    "Cookie": f"sessionid={cookie}",
                },
                open_timeout=30,
                close_timeout=2,
                ping_interval=None,
                compression=None,
                proxy=None,
                max_size=None,
                user_agent_header=None,
            )
            # The socket is open once the server's catch-up frames have come.
            await asyncio.wait_for(socket.recv(), timeout=30)
            return socket

    return list(await asyncio.gather(*(one(cookie) for cookie in cookies)))


async def close_sockets(sockets: Sequence[ClientConnection]) -> None:
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)


def rss_kb(pid: int) -> int:
    return memory_kb(pid).get("VmRSS", 0)


async def measure_rss(deployment: Deployment, *, warm: int, count: int) -> float:
    with server(deployment, traced=None, frames=0) as (port, pid):
        warmed = await open_sockets(port, deployment.cookies[:warm])
        await asyncio.sleep(SETTLE_SECONDS)
        before = rss_kb(pid)
        opened = await open_sockets(port, deployment.cookies[warm : warm + count])
        await asyncio.sleep(SETTLE_SECONDS)
        after = rss_kb(pid)
        await close_sockets(warmed + opened)
    return (after - before) / count


def snapshot(pid: int, path: Path, *, keep_as: str) -> tracemalloc.Snapshot:
    """Ask the traced server for a snapshot, keep it as `keep_as` beside `path`, and read it.
    Blocking: the client's sockets are quiet meanwhile, as the server should be."""
    path.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 120
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the traced server wrote no snapshot")
        time.sleep(0.2)
    kept = path.rename(path.with_name(keep_as))
    return tracemalloc.Snapshot.load(str(kept))


async def measure_sites(
    deployment: Deployment, *, warm: int, count: int, frames: int
) -> tuple[tracemalloc.Snapshot, tracemalloc.Snapshot]:
    path = deployment.log_dir / "snapshot"
    with server(deployment, traced=path, frames=frames) as (port, pid):
        warmed = await open_sockets(port, deployment.cookies[:1], concurrency=1)
        warmed += await open_sockets(port, deployment.cookies[1:warm], concurrency=10)
        await asyncio.sleep(SETTLE_SECONDS)
        before = snapshot(pid, path, keep_as="before")
        opened = await open_sockets(port, deployment.cookies[warm : warm + count], concurrency=10)
        await asyncio.sleep(SETTLE_SECONDS)
        after = snapshot(pid, path, keep_as="after")
        await close_sockets(warmed + opened)
    return before, after


def own(filename: str) -> bool:
    """The project's own code: under its root, outside its virtualenv and this benchmark."""
    path = Path(filename)
    return path.is_relative_to(ROOT) and not any(
        path.is_relative_to(ROOT / outside) for outside in (".venv", "bench")
    )


def short(frame: tracemalloc.Frame) -> str:
    """A frame as `path:line`: from the package down, for a library or the standard library's
    modules, or from the project's root."""
    name = frame.filename
    library = LIBRARY_PATH.search(name)
    name = name[library.end() :] if library else name.removeprefix(str(ROOT) + "/")
    return f"{name}:{frame.lineno}"


def site(traceback: tracemalloc.Traceback, depth: int, *, by_own: bool) -> str:
    """The innermost frame, then up to `depth` of the project's own frames that led there;
    `by_own`: only the project's innermost frame (else the innermost frame)."""
    frames = list(reversed(traceback))  # most recent call first
    if by_own:
        ours = [short(f) for f in frames if own(f.filename)]
        return ours[0] if ours else f"(outside) {short(frames[0])}"
    key = [short(frames[0])]
    key += [short(f) for f in frames[1:] if own(f.filename)][:depth]
    return "  <  ".join(key)


def table(
    before: tracemalloc.Snapshot,
    after: tracemalloc.Snapshot,
    *,
    count: int,
    depth: int,
    top: int,
    by_own: bool = False,
) -> list[tuple[float, float, str]]:
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    diffs = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "traceback")
    sites: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for diff in diffs:
        entry = sites[site(diff.traceback, depth, by_own=by_own)]
        entry[0] += diff.size_diff
        entry[1] += diff.count_diff
    rows = sorted(
        ((size / count, blocks / count, name) for name, (size, blocks) in sites.items()),
        reverse=True,
    )
    return [*rows[:top], (sum(r[0] for r in rows), sum(r[1] for r in rows), "TOTAL")]


def report(
    before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, options: argparse.Namespace
) -> None:
    for by_own in (False, True):
        what = "the project's innermost frame" if by_own else "site"
        print(f"Traced bytes per socket by {what} ({options.connections} sockets):")
        print(f"{'bytes':>8} {'blocks':>7}  site")
        for size, blocks, name in table(
            before,
            after,
            count=options.connections,
            depth=options.depth,
            top=options.top,
            by_own=by_own,
        ):
            print(f"{size:8.1f} {blocks:7.2f}  {name}")


async def main(options: argparse.Namespace) -> None:
    if options.snapshots:
        first, second = (tracemalloc.Snapshot.load(path) for path in options.snapshots)
        report(first, second, options)
        return
    log_dir = Path(tempfile.mkdtemp(prefix="census-"))
    users = options.warm + options.connections
    with deploy(
        TARGETS["app"],
        users=users,
        rooms=1,
        redis_db=options.redis_db,
        log_dir=log_dir,
        extra_env={},
    ) as deployment:
        if not options.no_rss:
            per_socket = await measure_rss(deployment, warm=options.warm, count=options.connections)
            print(f"RSS per socket: {per_socket:.2f} KB ({options.connections} sockets)")
        before, after = await measure_sites(
            deployment, warm=options.warm, count=options.connections, frames=options.frames
        )
    print(f"Snapshots kept in {log_dir} (re-read them with --snapshots)")
    report(before, after, options)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.census", description=__doc__)
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--warm", type=int, default=50)
    parser.add_argument("--redis-db", type=int, required=True)
    parser.add_argument("--frames", type=int, default=30, help="frames traced per allocation")
    parser.add_argument("--depth", type=int, default=2, help="project frames per site")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--no-rss", action="store_true", help="only the traced run")
    parser.add_argument(
        "--snapshots", nargs=2, metavar=("BEFORE", "AFTER"), help="report on kept snapshots"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    else:
        asyncio.run(main(parse(sys.argv[1:])))
