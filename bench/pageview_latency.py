"""Does counting a pageview make the request wait? Request latency with counting off and on.

    python -m bench.pageview_latency [--requests 500] [--delay-ms 50]

Starts the production topology on this machine (Daphne with the Redis channel layer, a
`runworker pageviews` process, SQLite in a temporary directory), then times sequential GETs of
one page, first with PAGEVIEWS_COUNTING=0, then with it on, then with it on while every packet
to and from Redis is held back --delay-ms by a local proxy: if the request waited for its
increment, that delay would show in its latency. Prints a table and writes it to
bench/results/pageview-latency.md. Talks only to 127.0.0.1.
"""

import argparse
import asyncio
import contextlib
import http.client
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "pageview-latency.md"
LOCALHOST = "127.0.0.1"
PAGE = "/accounts/login/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, child: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"the server exited with {child.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((LOCALHOST, port), 0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listened on port {port}")


@contextlib.contextmanager
def started(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "ab") as out:
        child = subprocess.Popen(  # noqa: S603 - our own command line
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            yield child
        finally:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout


class DelayingProxy:
    """A TCP proxy on 127.0.0.1 that holds every chunk back `delay` seconds, both ways."""

    def __init__(self, target_port: int, delay: float) -> None:
        self.target_port = target_port
        self.delay = delay
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self.handle, LOCALHOST, self.port)
        )
        self.ready.set()
        self.loop.run_forever()
        server.close()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(LOCALHOST, self.target_port)
        await asyncio.gather(self.pipe(reader, up_writer), self.pipe(up_reader, writer))

    async def pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                await asyncio.sleep(self.delay)
                writer.write(chunk)
                await writer.drain()
        writer.close()

    def __enter__(self) -> "DelayingProxy":
        self.thread.start()
        self.ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@dataclass
class Result:
    mode: str
    latencies: list[float]
    counted: int

    def row(self) -> str:
        ms = sorted(x * 1000 for x in self.latencies)
        q = statistics.quantiles(ms, n=100)
        return (
            f"| {self.mode} | {len(ms)} | {statistics.mean(ms):.2f} | {q[49]:.2f} | "
            f"{q[94]:.2f} | {q[98]:.2f} | {self.counted} |"
        )


def timed_gets(port: int, count: int) -> list[float]:
    connection = http.client.HTTPConnection(LOCALHOST, port, timeout=10)
    latencies = []
    try:
        for _ in range(count):
            started_at = time.perf_counter()
            connection.request("GET", PAGE)
            response = connection.getresponse()
            response.read()
            latencies.append(time.perf_counter() - started_at)
            if response.status != 200:
                raise RuntimeError(f"GET {PAGE} answered {response.status}")
    finally:
        connection.close()
    return latencies


def views_counted(env: dict[str, str]) -> int:
    code = f"from pageviews.queries import page_views; print(page_views(path={PAGE!r}))"
    return int(manage(env, "shell", "-c", code).split()[-1])


def measure(
    mode: str, env: dict[str, str], redis_url: str, *, requests: int, warmup: int, logs: Path
) -> Result:
    port = free_port()
    run_env = {**env, "REDIS_URL": redis_url}
    manage(
        run_env,
        "shell",
        "-c",
        "from pageviews.models import PageCounter; PageCounter.objects.all().delete()",
    )
    with contextlib.ExitStack() as stack:
        worker = stack.enter_context(
            started(
                [sys.executable, "manage.py", "runworker", "pageviews"],
                run_env,
                logs / "worker.log",
            )
        )
        server = stack.enter_context(
            started(
                [
                    sys.executable,
                    "-m",
                    "daphne",
                    "-b",
                    LOCALHOST,
                    "-p",
                    str(port),
                    "realtime.asgi:application",
                ],
                run_env,
                logs / f"daphne-{port}.log",
            )
        )
        wait_for_port(port, server)
        timed_gets(port, warmup)
        latencies = timed_gets(port, requests)
        time.sleep(float(env["PAGEVIEWS_FLUSH_SECONDS"]) * 3 + 1)  # let the worker save
        assert worker.poll() is None, "the worker died; see its log"
    return Result(mode=mode, latencies=latencies, counted=views_counted(run_env))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument(
        "--redis",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10"),
        help="a Redis database this run may use (redis://127.0.0.1:6379/<db>)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not 1 <= args.requests <= 20_000:
        parser.error("--requests must be between 1 and 20000")
    if not args.redis.startswith("redis://127.0.0.1:") and not args.redis.startswith(
        "redis://localhost:"
    ):
        parser.error("--redis must be on 127.0.0.1 or localhost")
    redis_port = int(args.redis.split(":")[2].split("/")[0])
    redis_db = args.redis.rsplit("/", 1)[1] if args.redis.count("/") == 3 else "0"

    with tempfile.TemporaryDirectory(prefix="pageview-bench-") as tmp:
        work = Path(tmp)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "realtime.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
            "ALLOWED_HOSTS": LOCALHOST,
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "STATIC_ROOT": str(work / "static"),
            "PAGEVIEWS_FLUSH_SECONDS": "1",
            "LOG_LEVEL": "WARNING",
        }
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")
        results = []
        for mode, counting in [("counting off", "0"), ("counting on", "1")]:
            results.append(
                measure(
                    mode,
                    {**env, "PAGEVIEWS_COUNTING": counting},
                    args.redis,
                    requests=args.requests,
                    warmup=args.warmup,
                    logs=work,
                )
            )
        if args.delay_ms > 0:
            with DelayingProxy(redis_port, args.delay_ms / 1000) as proxy:
                slow = f"redis://127.0.0.1:{proxy.port}/{redis_db}"
                results.append(
                    measure(
                        f"counting on, Redis +{args.delay_ms:g} ms each way",
                        {**env, "PAGEVIEWS_COUNTING": "1"},
                        slow,
                        requests=args.requests,
                        warmup=args.warmup,
                        logs=work,
                    )
                )

    lines = [
        "# Pageview counting and request latency",
        "",
        "`python -m bench.pageview_latency"
        f" --requests {args.requests} --delay-ms {args.delay_ms:g}`"
        f" on {platform.node() or 'this machine'} ({os.cpu_count()} cores, Python"
        f" {platform.python_version()}), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        f"Sequential GETs of `{PAGE}` through one Daphne process with the Redis channel layer and a"
        " `runworker pageviews` process; milliseconds per request, client side.",
        "",
        "| mode | requests | mean | p50 | p95 | p99 | views counted |",
        "|---|---|---|---|---|---|---|",
        *(result.row() for result in results),
        "",
        "Views counted: what the worker had saved a few seconds after the last request, warm-up"
        " included. With Redis slowed down, a request that waited for its increment would take"
        " at least the added round trip (100 ms); it does not. The worker, behind the same slow"
        " Redis, receives one hit per round trip, so most hits were still queued in the channel"
        " when counted: they are saved later unless they wait past the layer's 60 s expiry.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
