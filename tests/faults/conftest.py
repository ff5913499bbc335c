"""The fault suite: real services are broken on purpose, and the project must recover.

Every fault is one that the tests cause themselves, on processes they started: their own
`redis-server` on a free port (restarted, never the system's Redis), their own server
processes (Daphne, or uvicorn where a test says so; stopped with SIGTERM), and a TCP proxy in
front of PostgreSQL (cut and restored; PostgreSQL itself is never stopped). Each test starts
its own servers (the frame-limit tests share one of each kind); the database is the session's
integration database, migrated once.
"""

import asyncio
import os
import secrets
import shutil
import subprocess
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

import pytest
import redis

from tests.faults.pages import Page, has_bodies
from tests.integration.conftest import (
    Server,
    postgres_url,  # noqa: F401 - a fixture this suite uses
    service_unavailable,
)
from tests.integration.test_pageviews_topology import process
from tests.servers import (
    DEMO_PASSWORD,
    LOCALHOST,
    PRODUCTION_OPTIONS,
    PYTHON,
    ServerName,
    free_port,
    manage,
    sign_in,
    start_redis,
    start_server,
    stop,
)

METRICS_TOKEN = secrets.token_urlsafe(16)


@pytest.fixture(scope="session")
def fault_env(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:  # noqa: F811
    """A production environment (DEBUG off, PostgreSQL) without a channel layer yet."""
    env = {
        "DJANGO_SETTINGS_MODULE": "realtime.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": postgres_url,
        "REDIS_URL": "",
        "ALLOWED_HOSTS": f"{LOCALHOST},localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "STATIC_ROOT": str(tmp_path_factory.mktemp("fault-static")),
        "MEDIA_ROOT": str(tmp_path_factory.mktemp("fault-media")),
        "METRICS_TOKEN": METRICS_TOKEN,
        "PYTHONUNBUFFERED": "1",
    }
    manage(env, "migrate", "--noinput")
    manage(env, "load_demo_data")
    manage(env, "collectstatic", "--noinput")
    return env


@dataclass
class RedisServer:
    """A redis-server of the test's own, on a free port, with nothing saved to disk."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{LOCALHOST}:{self.port}/0"

    def start(self, *options: str) -> None:
        self.process = start_redis(port=self.port, workdir=self.workdir, options=options)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(host=LOCALHOST, port=self.port, socket_timeout=5)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        service_unavailable("redis-server", FileNotFoundError("not installed"))
    server = RedisServer(workdir=tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class AppServer:
    """A server process (Daphne unless told otherwise) on a fixed port, with its production
    options, that a test may stop and start again."""

    env: dict[str, str]
    log: Path
    name: ServerName = "daphne"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def server(self) -> Server:
        return Server(port=self.port, log=self.log)

    def start(self) -> None:
        self.process = start_server(
            self.env,
            port=self.port,
            log=self.log,
            args=PRODUCTION_OPTIONS[self.name],
            server=self.name,
        )

    def stop(self) -> int:
        """SIGTERM; the exit code."""
        assert self.process is not None
        code = stop(self.process)
        self.process = None
        return code

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@pytest.fixture
def server_name() -> ServerName:
    """The server `app_servers` starts: Daphne, unless a test parametrizes this by server."""
    return "daphne"


@pytest.fixture
def app_servers(
    tmp_path: Path, server_name: ServerName
) -> Iterator[Callable[[dict[str, str]], AppServer]]:
    """Starts server processes with the given environment; stops what is left at the end."""
    started: list[AppServer] = []

    def start(env: dict[str, str]) -> AppServer:
        log = tmp_path / f"{server_name}-{uuid.uuid4().hex[:8]}.log"
        server = AppServer(env=env, log=log, name=server_name)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        if server.process is not None:
            server.stop()


@pytest.fixture
def sessions() -> Callable[[AppServer], dict[str, str]]:
    """Signs the demo users in through a server's login form; session ids by username."""

    def sign_in_all(server: AppServer) -> dict[str, str]:
        origin = server.server.origin
        return {name: sign_in(origin, name, DEMO_PASSWORD) for name in ("ada", "grace")}

    return sign_in_all


class Conversation(NamedTuple):
    a: AppServer
    b: AppServer
    writer: Page  # ada
    reader: Page  # grace
    token: str  # in every message of this conversation


@pytest.fixture
def conversation(
    fault_env: dict[str, str],
    redis_server: RedisServer,
    app_servers: Callable[[dict[str, str]], AppServer],
    sessions: Callable[[AppServer], dict[str, str]],
) -> Callable[..., Awaitable[Conversation]]:
    """Two server processes, A and B, sharing the test's Redis; grace reads on one of them
    (`reader_on`), ada writes on the other, and her first message ("<token> before") has
    reached grace. `env` adds settings to both processes."""

    async def start(
        *, reader_on: Literal["a", "b"], env: Mapping[str, str] | None = None
    ) -> Conversation:
        both = {**fault_env, "REDIS_URL": redis_server.url, **(env or {})}
        a, b = await asyncio.gather(
            asyncio.to_thread(app_servers, both), asyncio.to_thread(app_servers, both)
        )
        signed_in = await asyncio.to_thread(sessions, a)
        token = uuid.uuid4().hex
        writer = Page(session=signed_in["ada"])
        reader = Page(session=signed_in["grace"])
        await reader.open((a if reader_on == "a" else b).server)
        await writer.open((b if reader_on == "a" else a).server)
        await writer.post(f"{token} before")
        await reader.receive_until(has_bodies(token, 1), what="the first message, through Redis")
        return Conversation(a, b, writer, reader, token)

    return start


class Worker:
    """A `manage.py runworker pageviews` process and its log."""

    def __init__(self, child: subprocess.Popen[bytes], log: Path) -> None:
        self.child = child
        self.log = log

    def alive(self) -> bool:
        return self.child.poll() is None

    def logged(self, text: str) -> bool:
        return text in self.log.read_text(errors="replace")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Worker]]:
    """Starts `manage.py runworker pageviews` processes; stops them (SIGTERM) at the end."""
    with ExitStack() as stack:

        def start(env: dict[str, str]) -> Worker:
            log = tmp_path / f"worker-{len(list(tmp_path.glob('worker-*.log')))}.log"
            command = [PYTHON, "manage.py", "runworker", "pageviews"]
            child = stack.enter_context(process(command, {**os.environ, **env}, log))
            return Worker(child, log)

        yield start
