"""The services the project's targets use on this machine: Redis (a database number of the
benchmark's own, flushed before each scenario and at the end, refused if it holds anybody
else's keys) and PostgreSQL (a scratch database per run), and their pids, to measure their
CPU alongside the server's.
"""

import contextlib

import psycopg
import redis

from bench.postgres import scratch_database
from bench.procstat import parent_pid
from bench.targets import LOCALHOST
from realtime.logic import PRESENCE_KEY_PREFIX

POSTGRES_URL = f"postgres://postgres@{LOCALHOST}:5432"
REDIS_PORT = 6379
# channels-redis' default key prefix and the project's presence entries (realtime.logic): the
# only keys the benchmark expects in its database.
BENCHMARK_KEY_PREFIXES = (b"asgi", PRESENCE_KEY_PREFIX.encode())


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
            (k for k in client.scan_iter(count=1000) if not k.startswith(BENCHMARK_KEY_PREFIXES)),
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
