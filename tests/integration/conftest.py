"""The production topology for integration tests: PostgreSQL, Redis and two server processes
(Daphne; uvicorn for the tests marked `on_every_server`).

Each run gets a fresh PostgreSQL database (dropped at the end) and a Redis database of its own
(flushed at the start and the end), and configures the servers only through environment
variables, as a deployment would. Without PostgreSQL or Redis the tests are skipped; with CI or
REQUIRE_SERVICES=1 set, a missing service is an error instead.
"""

import os
import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bench.postgres import scratch_database
from tests.servers import (
    DEMO_PASSWORD,
    LOCALHOST,
    PRODUCTION_OPTIONS,
    SERVERS,
    ServerName,
    manage,
    serving,
    sign_in,
)

POSTGRES_PORT = 5432
POSTGRES_USER = "postgres"
REDIS_PORT = 6379
# A database number of its own, so that flushing it touches nobody else's data.
# Two runs at the same time on one machine must each choose another: INTEGRATION_REDIS_DB=10.
REDIS_DB = int(os.environ.get("INTEGRATION_REDIS_DB", "9"))
# channels-redis' default key prefix and presence's: the only keys a run expects to find in
# its database.
KNOWN_KEY_PREFIXES = (b"asgi", b"relay:presence:")

DEMO_USERS = ("ada", "grace", "linus")


@dataclass(frozen=True)
class Server:
    port: int
    log: Path

    @property
    def origin(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    @property
    def socket_base(self) -> str:
        return f"ws://{LOCALHOST}:{self.port}"


@dataclass(frozen=True)
class Topology:
    """Two server processes sharing one PostgreSQL database and one Redis channel layer."""

    a: Server
    b: Server
    sessions: dict[str, str]  # username -> session id, valid on both servers
    server: ServerName


# A test so marked runs once on each server the project supports.
on_every_server = pytest.mark.parametrize("topology", SERVERS, indirect=True)


def services_required() -> bool:
    ci = os.environ.get("CI", "").strip().lower()
    return os.environ.get("REQUIRE_SERVICES") == "1" or ci not in ("", "0", "false", "no")


def service_unavailable(service: str, error: Exception) -> NoReturn:
    detail = str(error).strip().partition("\n")[0] or type(error).__name__
    reason = f"{service} is unreachable ({detail})"
    if services_required():
        pytest.fail(f"{reason}; CI or REQUIRE_SERVICES=1 is set, so this fails", pytrace=False)
    pytest.skip(f"{reason}; start it, or set REQUIRE_SERVICES=1 to make this an error")


def postgres_admin() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(
            host=LOCALHOST,
            port=POSTGRES_PORT,
            user=POSTGRES_USER,
            dbname="postgres",
            connect_timeout=3,
            autocommit=True,
        )
    except psycopg.OperationalError as error:
        service_unavailable(f"PostgreSQL on {LOCALHOST}:{POSTGRES_PORT}", error)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    server_url = f"postgres://{POSTGRES_USER}@{LOCALHOST}:{POSTGRES_PORT}"
    with scratch_database(postgres_admin, server_url=server_url, prefix="realtime_it") as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    client = redis.Redis(
        host=LOCALHOST,
        port=REDIS_PORT,
        db=REDIS_DB,
        socket_connect_timeout=3,
        socket_timeout=10,
        # Retrying a refused connection only delays the skip by seconds.
        retry=Retry(NoBackoff(), retries=0),
    )
    with client:
        try:
            client.ping()
        except redis.RedisError as error:
            service_unavailable(f"Redis on {LOCALHOST}:{REDIS_PORT}", error)
        foreign = [
            key for key in client.scan_iter(count=1000) if not key.startswith(KNOWN_KEY_PREFIXES)
        ]
        if foreign:
            pytest.fail(
                f"Redis database {REDIS_DB} holds keys this suite did not write (e.g. "
                f"{foreign[0]!r}); refusing to flush it. Choose a free one with "
                "INTEGRATION_REDIS_DB=<n>.",
                pytrace=False,
            )
        client.flushdb()
        try:
            yield f"redis://{LOCALHOST}:{REDIS_PORT}/{REDIS_DB}"
        finally:
            client.flushdb()


@pytest.fixture(scope="session")
def production_env(
    redis_url: str, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The environment of a production deployment, with the database migrated and seeded."""
    env = {
        # pytest-django exported the test settings; the servers must use the real ones.
        "DJANGO_SETTINGS_MODULE": "realtime.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": postgres_url,
        "REDIS_URL": redis_url,
        "ALLOWED_HOSTS": f"{LOCALHOST},localhost",
        "CSRF_TRUSTED_ORIGINS": "",
        # Plain HTTP on localhost stands in for the TLS-terminating proxy.
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "STATIC_ROOT": str(tmp_path_factory.mktemp("static")),
        "MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
        "PYTHONUNBUFFERED": "1",
    }
    manage(env, "migrate", "--noinput")
    manage(env, "load_demo_data")
    manage(env, "collectstatic", "--noinput")
    return env


@pytest.fixture(scope="session", params=["daphne"])
def topology(
    request: pytest.FixtureRequest,
    production_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Topology]:
    server: ServerName = request.param
    logs = tmp_path_factory.mktemp(server)
    with ExitStack() as stack:
        servers = [
            start_process(stack, production_env, logs / f"{name}.log", server) for name in "ab"
        ]
        sessions = {user: sign_in(servers[0].origin, user, DEMO_PASSWORD) for user in DEMO_USERS}
        yield Topology(a=servers[0], b=servers[1], sessions=sessions, server=server)


def start_process(stack: ExitStack, env: dict[str, str], log: Path, server: ServerName) -> Server:
    """One server with its production options, stopped when `stack` closes."""
    try:
        port = stack.enter_context(
            serving(env, log=log, args=PRODUCTION_OPTIONS[server], server=server)
        )
    except (RuntimeError, TimeoutError) as error:
        tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
        raise RuntimeError(f"{server} did not start ({error}); its log ends:\n{tail}") from error
    return Server(port=port, log=log)
