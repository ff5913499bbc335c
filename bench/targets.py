"""What is measured: the project and its peers, and how to start each one.

Every server is a child process bound to 127.0.0.1, started fresh for each scenario and
stopped by its own pid whatever happens. The project runs as it is deployed — DEBUG off,
PostgreSQL, the Redis channel layer, Daphne (or uvicorn: `app-uvicorn`) — on a database
created for the run and a Redis database number of its own that is flushed before each
scenario and at the end.
"""

import contextlib
import csv
import io
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import psycopg
import redis

from bench.client import Dialect
from bench.postgres import scratch_database
from bench.procstat import parent_pid

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LOCALHOST = "127.0.0.1"
POSTGRES_URL = f"postgres://postgres@{LOCALHOST}:5432"
REDIS_PORT = 6379
# channels-redis' default key prefix: the only keys the benchmark expects in its database.
CHANNEL_LAYER_KEY_PREFIX = b"asgi"
USER_PREFIX = "bench"
FIRST_ROOM = "load-test"  # the room `manage.py loadtest_users` creates


def room_slug(number: int) -> str:
    return FIRST_ROOM if number == 0 else f"{FIRST_ROOM}-{number}"


@dataclass(frozen=True)
class Target:
    name: str
    title: str
    dialect: Dialect
    server: Literal["daphne", "uvicorn"] = "daphne"
    uses_redis: bool = False
    uses_postgres: bool = False
    root: Path = ROOT  # where the server runs from: this checkout, or an exported commit

    def socket_path(self, room: str) -> str:
        if self.name == "tutorial":
            return f"/ws/chat/{room}/"
        return f"/ws/?room={room}"

    def command(self, port: int) -> list[str]:
        if self.name == "websockets":
            return [PYTHON, "-m", "bench.peers.wsserver", "--port", str(port)]
        if self.server == "uvicorn":  # as docs/deployment.md's uvicorn command
            uvicorn = [PYTHON, "-m", "uvicorn", "--host", LOCALHOST, "--port", str(port)]
            return [*uvicorn, *APP_UVICORN_OPTIONS, APPLICATIONS["app"]]
        # Every Daphne target gets the production listen backlog: with Daphne's 50, a burst of
        # handshakes measures the kernel's SYN retries (1 s, 3 s) more than the server.
        endpoint = f"tcp:port={port}:interface={LOCALHOST}:backlog={LISTEN_BACKLOG}"
        daphne = [PYTHON, "-m", "daphne", "-e", endpoint]
        application = self.name.partition("@")[0]
        if application == "app":  # the project runs as its Dockerfile runs it
            daphne += APP_DAPHNE_OPTIONS
        return [*daphne, APPLICATIONS[application]]


LISTEN_BACKLOG = 2048
# The Dockerfile's options (tests/bench checks that they match): a handshake has 5 s, idle
# sockets are pinged every 60 s instead of 20, and messages are limited to 64 KiB.
APP_DAPHNE_OPTIONS = [
    "--websocket_connect_timeout",
    "5",
    "--ping-interval",
    "60",
    "--websocket-max-message-size",
    "65536",
    "--websocket-max-frame-size",
    "65536",
]
# docs/deployment.md's uvicorn command without its address (tests/bench checks that they match): the
# production backlog; client addresses from a proxy's X-Forwarded-For; uvloop, httptools and
# the websockets protocol named, so that a missing one fails instead of falling back; idle
# sockets pinged every 60 s and messages limited to 64 KiB, as on Daphne; no compression
# (Daphne offers none either); the lifespan protocol required, since the shutdown work runs
# through it; no access log (Daphne keeps none either).
APP_UVICORN_OPTIONS = [
    "--backlog",
    str(LISTEN_BACKLOG),
    "--proxy-headers",
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--ws",
    "websockets-sansio",
    "--ws-ping-interval",
    "60",
    "--ws-max-size",
    "65536",
    "--ws-per-message-deflate",
    "false",
    "--lifespan",
    "on",
    "--no-access-log",
]


APPLICATIONS = {
    "app": "realtime.asgi:application",
    "tutorial": "bench.peers.tutorial.asgi:application",
    "bare": "bench.peers.bare:application",
}

TARGETS = {
    target.name: target
    for target in (
        Target("app", "this project (Daphne)", "app", uses_redis=True, uses_postgres=True),
        Target(
            "app-uvicorn",
            "this project (uvicorn)",
            "app",
            server="uvicorn",
            uses_redis=True,
            uses_postgres=True,
        ),
        Target("tutorial", "Channels tutorial (Daphne)", "peer", uses_redis=True),
        Target("bare", "bare ASGI (Daphne)", "peer"),
        Target("websockets", "raw websockets", "peer"),
    )
}


@dataclass
class Deployment:
    """A target made ready to start: its environment and, for the app, signed-in users."""

    target: Target
    env: dict[str, str]
    log_dir: Path
    redis_db: int
    cookies: list[str] = field(default_factory=list)
    setup_seconds: float = 0.0
    # The services' own processes, to measure their CPU alongside the server's.
    redis_pid: int | None = None
    postgres_pid: int | None = None

    def cookie(self, index: int) -> str | None:
        return self.cookies[index] if self.cookies else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((LOCALHOST, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listened on {LOCALHOST}:{port} within {timeout} s")


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


@dataclass(frozen=True)
class Server:
    pid: int
    port: int
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"ws://{LOCALHOST}:{self.port}"

    @property
    def origin(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"


def server_log(deployment: Deployment, name: str) -> Path:
    return deployment.log_dir / f"{deployment.target.name}-{name}.log"


@contextlib.contextmanager
def server(deployment: Deployment, name: str) -> Iterator[Server]:
    """The target's server on a free port, stopped by its pid when the block ends."""
    port = free_port()
    log = server_log(deployment, name)
    with open(log, "ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            deployment.target.command(port),
            cwd=deployment.target.root,
            env=deployment.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, process)
            yield Server(pid=process.pid, port=port, log=log, process=process)
        finally:
            stop_process(process)


# Services.


def redis_client(db: int) -> redis.Redis:
    return redis.Redis(host=LOCALHOST, port=REDIS_PORT, db=db, socket_connect_timeout=3)


def redis_pid(db: int) -> int | None:
    """The Redis server's pid, to measure its CPU too (None if it is unreachable)."""
    try:
        with redis_client(db) as client:
            return int(client.info("server")["process_id"])
    except (redis.RedisError, KeyError, ValueError):
        return None


def redis_flush(db: int) -> None:
    """Empty the benchmark's Redis database, refusing if it holds anybody else's keys."""
    with redis_client(db) as client:
        foreign = next(
            (k for k in client.scan_iter(count=1000) if not k.startswith(CHANNEL_LAYER_KEY_PREFIX)),
            None,
        )
        if foreign is not None:
            raise RuntimeError(
                f"Redis database {db} holds a key the benchmark did not write ({foreign!r}); "
                "refusing to flush it. Choose another with --redis-db."
            )
        client.flushdb()


def postgres_pid() -> int | None:
    """PostgreSQL's postmaster, the parent of every backend (to measure their CPU)."""
    try:
        with postgres_admin() as admin:
            row = admin.execute("SELECT pg_backend_pid()").fetchone()
    except psycopg.Error:
        return None
    return parent_pid(int(str(row[0]))) if row else None


def postgres_admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(f"{POSTGRES_URL}/postgres", connect_timeout=5, autocommit=True)


def postgres_database() -> contextlib.AbstractContextManager[str]:
    return scratch_database(postgres_admin, server_url=POSTGRES_URL, prefix="bench")


def manage(env: Mapping[str, str], root: Path, *args: str, timeout: float = 300) -> str:
    result = subprocess.run(  # noqa: S603 - our own command line
        [PYTHON, "manage.py", *args],
        cwd=root,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def base_env() -> dict[str, str]:
    """This environment without proxy settings (all traffic stays on 127.0.0.1)."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def app_env(database_url: str, redis_db: int, static_root: Path) -> dict[str, str]:
    """The project's production settings, as a deployment sets them."""
    return {
        "DJANGO_SETTINGS_MODULE": "realtime.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": database_url,
        "REDIS_URL": f"redis://{LOCALHOST}:{REDIS_PORT}/{redis_db}",
        "ALLOWED_HOSTS": f"{LOCALHOST},localhost",
        "CSRF_TRUSTED_ORIGINS": "",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "STATIC_ROOT": str(static_root),
    }


@contextlib.contextmanager
def deploy(
    target: Target,
    *,
    users: int,
    rooms: int,
    redis_db: int,
    log_dir: Path,
    extra_env: Mapping[str, str],
) -> Iterator[Deployment]:
    """Make `target` ready to start: services checked, database migrated, users created."""
    started = time.monotonic()
    env = base_env()
    if target.uses_redis:
        redis_flush(redis_db)
    with contextlib.ExitStack() as stack:
        cookies: list[str] = []
        if target.name == "tutorial":
            env["DJANGO_SETTINGS_MODULE"] = "bench.peers.tutorial.settings"
            env["REDIS_URL"] = f"redis://{LOCALHOST}:{REDIS_PORT}/{redis_db}"
        if target.dialect == "app":
            database_url = stack.enter_context(postgres_database())
            static_root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="static-")))
            env.update(app_env(database_url, redis_db, static_root))
            cookies = prepare_app(env, target.root, users=users, rooms=rooms, work_dir=log_dir)
        env.update(extra_env)
        try:
            yield Deployment(
                target=target,
                env=env,
                log_dir=log_dir,
                redis_db=redis_db,
                cookies=cookies,
                setup_seconds=round(time.monotonic() - started, 1),
                redis_pid=redis_pid(redis_db) if target.uses_redis else None,
                postgres_pid=postgres_pid() if target.uses_postgres else None,
            )
        finally:
            if target.uses_redis:
                redis_flush(redis_db)


def prepare_app(
    env: Mapping[str, str], root: Path, *, users: int, rooms: int, work_dir: Path
) -> list[str]:
    """Migrate, collect static files, create the users (one session each) and the rooms."""
    manage(env, root, "migrate", "--noinput")
    manage(env, root, "collectstatic", "--noinput")
    users_csv = work_dir / "users.csv"
    manage(
        env,
        root,
        "loadtest_users",
        f"--count={users}",
        f"--prefix={USER_PREFIX}",
        f"--room={FIRST_ROOM}",
        f"--output={users_csv}",
    )
    slugs = [room_slug(n) for n in range(1, rooms)]
    if slugs:
        manage(env, root, "shell", "-c", create_rooms_code(slugs))
    with open(users_csv, newline="") as rows:
        cookies = [session for _, session in csv.reader(rows)]
    users_csv.unlink()
    if len(cookies) < users:
        raise RuntimeError(f"loadtest_users made {len(cookies)} sessions, {users} were asked for")
    return cookies


def create_rooms_code(slugs: list[str]) -> str:
    return (
        "from chat.models import Room\n"
        f"for slug in {slugs!r}:\n"
        "    Room.objects.get_or_create(slug=slug, defaults={'name': slug.replace('-', ' ')})\n"
    )


def tool_version(command: list[str]) -> str:
    path = shutil.which(command[0])
    if path is None:
        return "not found"
    result = subprocess.run(  # noqa: S603 - a fixed command line
        [path, *command[1:]], capture_output=True, text=True, timeout=10, check=False
    )
    return result.stdout.strip() or result.stderr.strip()


@contextlib.contextmanager
def app_at(ref: str) -> Iterator[Target]:
    """The project as it was at git `ref`, exported to a temporary directory (the repository
    itself is only read), to measure an earlier delivery path beside the current one."""
    commit = subprocess.run(  # noqa: S603 - a fixed command line
        ["git", "-C", str(ROOT), "rev-parse", "--short", f"{ref}^{{commit}}"],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix=f"bench-app-{commit}-") as directory:
        archive = subprocess.run(  # noqa: S603 - a fixed command line
            ["git", "-C", str(ROOT), "archive", "--format=tar", commit],  # noqa: S607
            capture_output=True,
            timeout=120,
            check=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(directory, filter="data")
        yield Target(
            f"app@{commit}",
            f"this project at {commit} (Daphne)",
            "app",
            uses_redis=True,
            uses_postgres=True,
            root=Path(directory),
        )


def checkout_state() -> str:
    """The commit this checkout is at, and whether its files differ from it (others may be
    editing while a run goes on: a server started later runs whatever is on disk then)."""

    def git(*args: str) -> str:
        return subprocess.run(  # noqa: S603 - a fixed command line
            ["git", "-C", str(ROOT), *args],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench", ":!docs")
    return f"{commit} with uncommitted changes" if changed else commit
