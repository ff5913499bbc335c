"""The kit against the real app: a Locust master and two workers, headless, for a few
seconds, each in its own process (Locust monkeypatches the standard library with gevent, so
it never runs inside the pytest process). Skipped unless requirements-loadtest.txt is
installed."""

import contextlib
import csv
import importlib.util
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadtest.locust import report
from tests.servers import ROOT, free_port, manage, serving

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None or importlib.util.find_spec("websocket") is None,
    reason="the load-test kit's requirements (requirements-loadtest.txt) are not installed",
)

LOCUSTFILE = str(ROOT / "loadtest" / "locust" / "locustfile.py")
STAFF_PASSWORD = "staff-pass-for-tests"


def locust(
    *args: str, cwd: Path, env: dict[str, str] | None = None, log: Path | None = None
) -> subprocess.Popen[str]:
    """Locust in its own process; its output goes to `log`, or is read with communicate()."""
    with contextlib.ExitStack() as files:
        out = files.enter_context(log.open("w")) if log else subprocess.PIPE
        return subprocess.Popen(
            [sys.executable, "-m", "locust", "-f", LOCUSTFILE, *args],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )


@contextlib.contextmanager
def stopped_at_the_end(*processes: subprocess.Popen[str]) -> Iterator[None]:
    try:
        yield
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture
def site(tmp_path):
    """The embedded app on 127.0.0.1: SQLite, in-memory channel layer, one Daphne."""
    env = {
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        # An empty REDIS_URL selects the in-memory channel layer even if the shell sets one.
        "REDIS_URL": "",
        # pytest-django exports tests.settings (an in-memory database) to child processes.
        "DJANGO_SETTINGS_MODULE": "realtime.settings",
    }
    manage(env, "migrate", "--noinput")
    manage(env, "loadtest_users", "--count", "40", "--output", str(tmp_path / "users.csv"))
    manage(
        {**env, "DJANGO_SUPERUSER_PASSWORD": STAFF_PASSWORD},
        "createsuperuser",
        "--noinput",
        "--username",
        "staff",
        "--email",
        "staff@example.com",
    )
    with serving(env, log=tmp_path / "daphne.log") as port:
        yield f"http://127.0.0.1:{port}"


def test_master_and_two_workers_measure_a_run(site, tmp_path):
    port = str(free_port())
    master = locust(
        *("--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", port),
        *("--expect-workers", "2", "--headless", "-u", "30", "-r", "30", "-t", "8s"),
        *("--host", site, "--users-csv", str(tmp_path / "users.csv")),
        *("--scenario", "announce", "--announce-every", "2", "--senders", "2"),
        *("--send-rate", "2", "--staff-username", "staff"),
        *("--csv", str(tmp_path / "results" / "run"), "--csv-full-history"),
        *("--samples-csv", "samples/run.csv"),
        cwd=tmp_path,
        env={"LOADTEST_STAFF_PASSWORD": STAFF_PASSWORD},
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
        output, _ = master.communicate(timeout=90)
        for worker in workers:
            worker.wait(timeout=30)

    summary = json.loads((tmp_path / "results" / "run_delivery.json").read_text())
    assert summary["processes"] == 3, output  # the master and two workers
    assert summary["connections"] >= 30
    assert summary["connect_failures"] == 0, output
    assert summary["sent"]["chat"] > 0
    assert summary["sent"]["announcements"] >= 2, output
    assert summary["streams"]["chat"]["expected"] > 0
    assert summary["streams"]["announcements"]["expected"] > 0
    assert summary["ratio"] >= 0.98, output
    assert summary["person"]["people"] == 30, output
    assert summary["person"]["ratio"] == 1.0, output
    assert summary["person"]["extra"] == 0, output
    assert summary["missing_ledgers"] == 0
    assert summary["passed"] is True, output
    assert master.returncode == 0, output
    assert "Per person: " in output
    assert "Thresholds: all passed" in output

    with (tmp_path / "results" / "run_stats.csv").open() as file:
        names = {row["Name"] for row in csv.DictReader(file)}
    assert {"connect", "deliver", "announcement", "ack"} <= names
    with (tmp_path / "results" / "run_thresholds.csv").open() as file:
        rows = {row["metric"]: row for row in csv.DictReader(file)}
    assert set(rows) == {
        "person_completeness",
        "connect_failure_rate",
        "extra_deliveries",
        "missing_ledgers",
        "announcer_failures",
    }
    assert {row["passed"] for row in rows.values()} == {"1"}

    # Raw samples: each process its own file; the workers received every delivery.
    samples = {}
    for name in ("run.csv", "run-w0.csv", "run-w1.csv"):
        with (tmp_path / "samples" / name).open() as file:
            samples[name] = list(csv.DictReader(file))
    deliveries = [r for name in ("run-w0.csv", "run-w1.csv") for r in samples[name]]
    assert sum(r["name"] == "deliver" for r in deliveries) == next(
        int(row["Request Count"])
        for row in csv.DictReader(stats_file(tmp_path))
        if row["Name"] == "deliver"
    )
    assert {r["name"] for r in deliveries} >= {"connect", "deliver", "announcement", "ack"}
    assert samples["run.csv"] == []  # the master has no users

    if importlib.util.find_spec("matplotlib") is not None:
        assert report.main([str(tmp_path / "results"), "-o", str(tmp_path / "report")]) == 0
        assert (tmp_path / "report" / "index.html").exists()


def stats_file(tmp_path):
    return (tmp_path / "results" / "run_stats.csv").read_text().splitlines()


def test_refuses_a_target_that_is_not_this_machine(tmp_path):
    (tmp_path / "users.csv").write_text("load-00000,x\n")
    # 192.0.2.0/24 is reserved for documentation: nothing would answer even if it were tried.
    process = locust(
        *("--headless", "-u", "1", "-r", "1", "-t", "2s", "--host", "http://192.0.2.1:8000"),
        cwd=tmp_path,
        env={"LOADTEST_ALLOW_REMOTE": ""},
    )
    with stopped_at_the_end(process):
        output, _ = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "Refusing to load-test 192.0.2.1" in output
    assert "--allow-remote" in output
