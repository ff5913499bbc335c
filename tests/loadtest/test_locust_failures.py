"""The kit against the real app when something goes wrong: refusals, lost messages and a lost
load generator must each make the run fail (non-zero exit) with a message that names the
cause (start-up mistakes: test_locust_startup). Each run is a few seconds of Locust in its
own process."""

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.loadtest.test_locust_run import locust, pytestmark, stopped_at_the_end
from tests.servers import ROOT, free_port, manage, serving, start_redis, stop
from tests.waiting import eventually

RAMP_LOCUSTFILE = Path(__file__).parent / "ramp_locustfile.py"

__all__ = ["pytestmark"]


@contextlib.contextmanager
def site_with(tmp_path: Path, users: int, **settings: str) -> Iterator[str]:
    """The embedded app on 127.0.0.1 with `users` load-test sessions in users.csv (the first
    one staff) and the given settings; yields its URL."""
    env = {
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
        "DJANGO_SETTINGS_MODULE": "realtime.settings",
        **settings,
    }
    manage(env, "migrate", "--noinput")
    manage(
        env,
        *("loadtest_users", "--count", str(users), "--staff", "1"),
        *("--output", str(tmp_path / "users.csv")),
    )
    with serving(env, log=tmp_path / "daphne.log") as port:
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def two_servers(tmp_path: Path, users: int) -> Iterator[tuple[str, str]]:
    """Two Daphnes of one site (a shared SQLite file, a redis-server of this test's own)."""
    redis_port = free_port()
    redis_process = start_redis(port=redis_port, workdir=tmp_path)
    try:
        env = {
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "DJANGO_SETTINGS_MODULE": "realtime.settings",
        }
        manage(env, "migrate", "--noinput")
        manage(
            env, "loadtest_users", "--count", str(users), "--output", str(tmp_path / "users.csv")
        )
        with (
            serving(env, log=tmp_path / "daphne-1.log") as first,
            serving(env, log=tmp_path / "daphne-2.log") as second,
        ):
            yield f"http://127.0.0.1:{first}", f"http://127.0.0.1:{second}"
    finally:
        stop(redis_process)


def server_errors(tmp_path: Path) -> list[str]:
    """The server log's warnings and errors, to show beside a failed assertion."""
    lines = (tmp_path / "daphne.log").read_text(errors="replace").splitlines()
    return [line for line in lines if not line.startswith("127.0.0.1:")][-40:]


def run(tmp_path: Path, *args: str, timeout: float = 60) -> tuple[int, str, dict[str, Any]]:
    """A headless single-process run; (exit code, output, completeness summary or {})."""
    process = locust(
        "--headless",
        *("--users-csv", str(tmp_path / "users.csv")),
        *("--csv", str(tmp_path / "results" / "run")),
        *args,
        cwd=tmp_path,
    )
    with stopped_at_the_end(process):
        output, _ = process.communicate(timeout=timeout)
    path = tmp_path / "results" / "run_delivery.json"
    summary = json.loads(path.read_text()) if path.exists() else {}
    return process.returncode, output, summary


def stats_rows(tmp_path: Path) -> dict[str, dict[str, str]]:
    with (tmp_path / "results" / "run_stats.csv").open() as file:
        return {row["Name"]: row for row in csv.DictReader(file)}


def thresholds_rows(tmp_path: Path) -> dict[str, dict[str, str]]:
    with (tmp_path / "results" / "run_thresholds.csv").open() as file:
        return {row["metric"]: row for row in csv.DictReader(file)}


def test_sockets_refused_for_too_many_per_user_are_failures_and_stop(tmp_path):
    # 3 sessions, 9 users: each session may hold one socket, so 6 users are refused with 4409,
    # once each: refused for good, they stop instead of trying again.
    with site_with(tmp_path, 3, SOCKETS_PER_USER="1") as url:
        code, output, summary = run(
            tmp_path,
            *("--host", url, "-u", "9", "-r", "9", "-t", "5s", "--scenario", "idle"),
            *("--share-sessions", "--settle", "1"),
        )
    assert code == 1, output
    assert summary["connections"] == 3, output
    assert summary["connect_failures_by_reason"] == {"4409 too many sockets": 6}
    assert summary["passed"] is False
    rows = stats_rows(tmp_path)
    assert rows["refused 4409 too many sockets"]["Failure Count"] == "6"
    assert rows["connect"]["Request Count"] == "3"
    assert rows["connect"]["Failure Count"] == "0"
    assert thresholds_rows(tmp_path)["connect_failure_rate"] == {
        "metric": "connect_failure_rate",
        "criterion": "connect_failure_rate<=0",
        "value": "0.666667",
        "passed": "0",
    }
    assert "FAIL  connect_failure_rate<=0" in output


def test_sockets_refused_for_too_many_attempts_back_off_then_connect(tmp_path):
    # 2 users on 1 session; the account may open 1 socket, then 1 more every 4 s. The second
    # user is refused with 4429, backs off with growing random delays like the page, and
    # gets in once the bucket refills: a few refusals, not a tight loop of them.
    with site_with(tmp_path, 1, SOCKET_CONNECT_BURST="1", SOCKET_CONNECT_RATE="0.25") as url:
        code, output, summary = run(
            tmp_path,
            *("--host", url, "-u", "2", "-r", "2", "-t", "9s", "--scenario", "idle"),
            *("--share-sessions", "--settle", "1"),
        )
    assert code == 1, output
    assert summary["connections"] == 2, output
    refusals = summary["connect_failures_by_reason"]["4429 too many attempts"]
    # Delays of up to 1, 2, 4, 8 s: within 4 s at most a handful of attempts.
    assert 1 <= refusals <= 6, output
    assert set(summary["connect_failures_by_reason"]) == {"4429 too many attempts"}
    assert stats_rows(tmp_path)["refused 4429 too many attempts"]["Failure Count"] == str(refusals)


def test_sockets_refused_at_admission_are_failures_and_retried(tmp_path):
    # One socket may open at a time and none may wait: of 30 users arriving together most
    # are refused with 1013 (the page retries that), back off, and all get in in the end.
    with site_with(
        tmp_path, 30, SOCKET_CONNECT_CONCURRENCY="1", SOCKET_CONNECT_WAIT="0.001"
    ) as url:
        code, output, summary = run(
            tmp_path,
            *("--host", url, "-u", "30", "-r", "1000", "-t", "12s", "--scenario", "idle"),
            *("--settle", "1"),
        )
    assert code == 1, output
    # Refusals at admission are counted by their close code. This test is about them: once, in
    # a CI run, five handshakes of the first burst also failed otherwise (the reason was not
    # kept; it was never seen again in 30 runs here), so other reasons may join them, and a
    # failure shows them with the server's log.
    reasons = summary["connect_failures_by_reason"]
    refusals = reasons.get("1013 try again later", 0)
    assert refusals >= 1, (reasons, server_errors(tmp_path), output)
    assert summary["connections"] == 30, output
    assert stats_rows(tmp_path)["refused 1013 try again later"]["Failure Count"] == str(refusals)
    assert stats_rows(tmp_path)["connect"]["Request Count"] == "30"


def test_users_spread_over_several_servers_with_a_breakdown_per_server(tmp_path):
    with two_servers(tmp_path, 6) as (first, second):
        code, output, summary = run(
            tmp_path,
            *("--host", f"{first},{second}", "-u", "6", "-r", "6", "-t", "5s"),
            *("--senders", "2", "--send-rate", "2", "--settle", "1.5"),
        )
    assert code == 0, output
    by_host = summary["by_host"]
    assert set(by_host) == {first, second}
    for host in (first, second):
        assert by_host[host]["connections"] == 3, output
        assert by_host[host]["connect_failures"] == 0
        assert by_host[host]["expected"] > 0
        assert by_host[host]["ratio"] == 1.0, output
    assert summary["person"]["ratio"] == 1.0, output
    assert set(summary["by_room"]) == {"load-test"}


def test_a_redis_outage_that_resume_repairs_is_complete_per_person(tmp_path):
    # The channel layer goes down mid-run: the server closes its sockets (1012) and refuses
    # new ones until it is back; the page's reconnect and resume give every person every
    # message all the same.
    redis_port = free_port()
    redis_process = start_redis(port=redis_port, workdir=tmp_path)
    env = {
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "DJANGO_SETTINGS_MODULE": "realtime.settings",
    }
    try:
        manage(env, "migrate", "--noinput")
        manage(env, "loadtest_users", "--count", "8", "--output", str(tmp_path / "users.csv"))
        with serving(env, log=tmp_path / "daphne.log") as port:
            log = tmp_path / "locust.log"
            process = locust(
                *("--headless", "-u", "8", "-r", "8", "-t", "20s", "--settle", "3"),
                *("--host", f"http://127.0.0.1:{port}", "--users-csv", str(tmp_path / "users.csv")),
                *("--senders", "2", "--send-rate", "2"),
                *("--threshold", "connect_failure_rate<=1"),
                *("--csv", str(tmp_path / "results" / "run")),
                cwd=tmp_path,
                log=log,
            )
            with stopped_at_the_end(process):
                wait_for_text(log, "WS       deliver", timeout=30)
                stop(redis_process)
                wait_for_text(tmp_path / "daphne.log", "ConnectionError", timeout=30)
                redis_process = start_redis(port=redis_port, workdir=tmp_path)
                process.wait(timeout=90)
    finally:
        stop(redis_process)
    output = log.read_text()
    summary = json.loads((tmp_path / "results" / "run_delivery.json").read_text())
    assert summary["drops"] > 0, output
    assert summary["person"]["people"] == 8
    assert summary["person"]["ratio"] == 1.0, output  # resume brought them back
    assert process.returncode == 0, output


def reconnect_run(tmp_path: Path, url: str, *extra: str) -> tuple[int, str, dict[str, Any]]:
    return run(
        tmp_path,
        *("--host", url, "-u", "6", "-r", "6", "-t", "9s", "--scenario", "reconnect"),
        *("--senders", "3", "--send-rate", "5", "--storm-every", "3", "--storm-jitter", "0.5"),
        *("--settle", "1.5", *extra),
    )


def test_without_resume_people_miss_messages_and_the_run_fails(tmp_path):
    with site_with(tmp_path, 6) as url:
        code, output, summary = reconnect_run(tmp_path, url, "--no-resume")
    person = summary["person"]
    assert person["people"] == 6, output
    assert person["missing"] > 0, output
    assert person["ratio"] < 1, output
    assert code == 1, output
    assert "FAIL  person_completeness>=1" in output


def test_with_resume_every_person_holds_every_message(tmp_path):
    with site_with(tmp_path, 6) as url:
        code, output, summary = reconnect_run(tmp_path, url)
    person = summary["person"]
    assert person["people"] == 6, output
    assert person["ratio"] == 1.0, output
    assert person["extra"] == 0, output
    assert summary["connections"] > 6  # the storms made everyone reconnect
    assert code == 0, output
    assert "Thresholds: all passed" in output


def wait_for_text(path: Path, *texts: str, timeout: float) -> None:
    """Until one of `texts` is in the file at `path`."""
    eventually(
        lambda: path.exists() and any(text in path.read_text() for text in texts),
        what=f"one of {texts!r} in {path}",
        timeout=timeout,
    )


# What a Locust master logs once its users are started (the second on a busy machine).
SPAWNED = ("All users spawned", "Spawning is complete")


def test_a_killed_load_generator_fails_the_run(tmp_path):
    with site_with(tmp_path, 20) as url:
        port = str(free_port())
        master = locust(
            *("--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", port),
            *("--expect-workers", "2", "--headless", "-u", "20", "-r", "20", "-t", "10s"),
            *("--host", url, "--users-csv", str(tmp_path / "users.csv")),
            *("--senders", "4", "--send-rate", "4", "--settle", "1"),
            *("--csv", str(tmp_path / "results" / "run")),
            cwd=tmp_path,
            log=tmp_path / "master.log",
        )
        workers = [
            locust(
                *("--worker", "--master-host", "127.0.0.1", "--master-port", port),
                cwd=tmp_path,
                log=tmp_path / f"worker-{n}.log",
            )
            for n in range(2)
        ]
        with stopped_at_the_end(master, *workers):
            wait_for_text(tmp_path / "master.log", *SPAWNED, timeout=30)
            workers[1].send_signal(signal.SIGKILL)
            master.wait(timeout=60)
            workers[0].wait(timeout=30)
    output = (tmp_path / "master.log").read_text()
    summary = json.loads((tmp_path / "results" / "run_delivery.json").read_text())
    assert summary["missing_ledgers"] == 1, output
    assert summary["passed"] is False
    assert master.returncode == 1, output
    assert "1 of 2 workers sent no ledger" in output
    assert "FAIL  missing_ledgers<=0" in output


def test_a_worker_whose_master_died_stops_soon(tmp_path):
    with site_with(tmp_path, 4) as url:
        port = str(free_port())
        master = locust(
            *("--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", port),
            *("--expect-workers", "1", "--headless", "-u", "4", "-r", "4", "-t", "60s"),
            *("--host", url, "--users-csv", str(tmp_path / "users.csv"), "--scenario", "idle"),
            cwd=tmp_path,
            log=tmp_path / "master.log",
        )
        worker = locust(
            *("--worker", "--master-host", "127.0.0.1", "--master-port", port),
            cwd=tmp_path,
            log=tmp_path / "worker.log",
        )
        with stopped_at_the_end(master, worker):
            wait_for_text(tmp_path / "master.log", *SPAWNED, timeout=30)
            master.send_signal(signal.SIGKILL)
            master.wait(timeout=10)
            killed_at = time.monotonic()
            worker.wait(timeout=40)
            stopped_after = time.monotonic() - killed_at
    # Locust's own limit is 60 s; the kit's is 10 s (plus a heartbeat and the shutdown).
    assert stopped_after < 20, (tmp_path / "worker.log").read_text()
    assert "Didn't get heartbeat from master in over 10s" in (tmp_path / "worker.log").read_text()


def test_a_load_shape_stops_at_the_run_time(tmp_path):
    # Locust follows a shape's ticks and ignores --run-time; the kit bounds the run itself.
    with site_with(tmp_path, 4) as url:
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "locust", "-f", str(RAMP_LOCUSTFILE), "--headless"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={
                **os.environ,
                "LOCUST_HOST": url,
                "LOCUST_RUN_TIME": "4s",
                "LOADTEST_USERS_CSV": str(tmp_path / "users.csv"),
                "LOADTEST_SCENARIO": "idle",
                "PYTHONPATH": str(ROOT),
            },
        )
        with stopped_at_the_end(process):
            output, _ = process.communicate(timeout=60)
        elapsed = time.monotonic() - started
    assert "loadtest: stopping the run after 4" in output, output
    assert elapsed < 30, output
    assert process.returncode == 0, output
