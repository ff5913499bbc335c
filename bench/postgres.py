"""A scratch PostgreSQL database: created empty, dropped afterwards with whatever is still
connected to it. Used by the benchmarks and the integration tests alike."""

import contextlib
import secrets
from collections.abc import Callable, Iterator

import psycopg
from psycopg import sql

Admin = Callable[[], psycopg.Connection[tuple[object, ...]]]


@contextlib.contextmanager
def scratch_database(admin: Admin, *, server_url: str, prefix: str) -> Iterator[str]:
    """The URL of a new database on `server_url` (e.g. `postgres://postgres@127.0.0.1:5432`);
    `admin` connects, with autocommit, to a database that is never dropped."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with admin() as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{server_url}/{name}"
    finally:
        with admin() as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
