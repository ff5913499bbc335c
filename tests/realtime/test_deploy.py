"""Production settings pass Django's deployment checklist."""

import secrets

import pytest

from tests.servers import DAPHNE_LIMITS, PRODUCTION_OPTIONS, ROOT, manage


def test_check_deploy_is_clean_in_production():
    env = {
        "DJANGO_SETTINGS_MODULE": "realtime.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "chat.example.com",
        "SECURE_HSTS_PRELOAD": "1",
        "DATABASE_URL": "sqlite:///:memory:",
        "REDIS_URL": "",
    }
    output = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert "System check identified no issues" in output


def test_production_refuses_to_start_without_a_secret_key():
    env = {"DJANGO_SETTINGS_MODULE": "realtime.settings", "DEBUG": "0", "SECRET_KEY": ""}
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        manage(env, "check")


def test_the_dockerfile_starts_daphne_with_the_tested_frame_limits():
    # tests/faults/test_frame_limits.py runs Daphne with DAPHNE_LIMITS; production must too.
    command = (ROOT / "Dockerfile").read_text().rpartition("CMD ")[2]
    assert all(f'"{option}"' in command for option in DAPHNE_LIMITS)


def test_uvicorn_has_daphnes_message_limit():
    # tests/faults/test_frame_limits.py runs both servers with their production options.
    daphne = DAPHNE_LIMITS[DAPHNE_LIMITS.index("--websocket-max-message-size") + 1]
    uvicorn = PRODUCTION_OPTIONS["uvicorn"]
    assert uvicorn[uvicorn.index("--ws-max-size") + 1] == daphne


def test_make_run_serves_uvicorn_with_the_production_options():
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    options = makefile.partition("\nUVICORN_OPTIONS := ")[2].partition("\n")[0].split()
    assert options == PRODUCTION_OPTIONS["uvicorn"]


def test_the_embedded_sqlite_database_takes_the_write_lock_at_begin(tmp_path):
    # Read-then-write transactions from several threads would otherwise fail at once with
    # "database is locked" instead of waiting (seen: an export request during a worker's write).
    env = {
        "DJANGO_SETTINGS_MODULE": "realtime.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
    }
    code = "from django.db import connection; print(connection.settings_dict['OPTIONS'])"
    output = manage(env, "shell", "-c", code)
    assert "'transaction_mode': 'IMMEDIATE'" in output


def test_the_documented_daphne_command_listens_only_where_the_proxy_reaches_it():
    # --proxy-headers believes X-Forwarded-For from anyone who can connect: loopback only.
    deployment = (ROOT / "docs" / "deployment.md").read_text().replace("\\\n", " ")
    commands = [line for line in deployment.splitlines() if "daphne -e " in line]
    assert commands
    for command in commands:
        assert "--proxy-headers" in command
        assert "interface=127.0.0.1:" in command
        assert "0.0.0.0" not in command  # noqa: S104


def test_a_long_read_of_the_embedded_database_does_not_hold_up_a_commit(tmp_path):
    # WAL: a socket opening (or a page) reading while a message commits neither waits nor makes
    # the commit wait. In SQLite's default journal a reader's lock fails the commit at once.
    env = {
        "DJANGO_SETTINGS_MODULE": "realtime.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
    }
    code = """
import sqlite3
from django.db import connection
reading = connection.cursor()
reading.execute("CREATE TABLE messages (body TEXT)")
reading.execute("BEGIN")
reading.execute("SELECT count(*) FROM messages").fetchone()
writer = sqlite3.connect(connection.settings_dict["NAME"], timeout=0, isolation_level=None)
writer.execute("BEGIN IMMEDIATE")
writer.execute("INSERT INTO messages VALUES ('hello')")
writer.execute("COMMIT")
mode = reading.execute("PRAGMA journal_mode").fetchone()[0]
synchronous = reading.execute("PRAGMA synchronous").fetchone()[0]
print("committed during the read;", mode, synchronous)
"""
    output = manage(env, "shell", "-c", code)
    assert "committed during the read; wal 2" in output  # 2: FULL
