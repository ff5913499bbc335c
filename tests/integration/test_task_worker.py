"""Durable tasks with real `db_worker` processes against PostgreSQL (and Redis for the pushes):
a stopped worker loses nothing, and a task whose worker is killed mid-task runs again."""

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.faults.proxy import TcpProxy
from tests.integration.conftest import POSTGRES_PORT
from tests.servers import LOCALHOST, PageServer, db_worker, manage
from tests.waiting import eventually

pytestmark = pytest.mark.integration

TIMEOUT = 30.0


@pytest.fixture(scope="module")
def worker_env(production_env: dict[str, str]) -> dict[str, str]:
    return {
        **production_env,
        "TASK_WORKER_HEARTBEAT": "0.5",
        "TASK_WORKER_STALE_AFTER": "3",
        "LINK_PREVIEW_ALLOWED_NETWORKS": f"{LOCALHOST}/32",
        "LINK_PREVIEW_PUBLIC": "0",
        "LINK_PREVIEW_TIMEOUT": "30",
    }


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def site() -> Iterator[PageServer]:
    with PageServer() as server:
        yield server


def query(url: str, sql: str, *params: object) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute(sql, params).fetchall()


def request_exports(env: dict[str, str], count: int) -> list[int]:
    output = manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        "from chat.exports import actions; from chat.models import Room;"
        " from django.contrib.auth.models import User;"
        " room = Room.objects.get(slug='general');"
        " print('EXPORTS', *[actions.export_request(room=room,"
        " user=User.objects.get(username=name), export_format='csv').pk"
        f" for name in (['ada', 'grace', 'linus'] * {count})[:{count}]])",
    )
    [line] = [line for line in output.splitlines() if line.startswith("EXPORTS")]
    return [int(pk) for pk in line.split()[1:]]


def export_tasks(env: dict[str, str], ids: list[int]) -> list[tuple[object, ...]]:
    """The status of each task that built one of these exports, and the workers that ran it."""
    return query(
        env["DATABASE_URL"],
        "SELECT status, worker_ids FROM django_tasks_database_dbtaskresult"
        " WHERE task_path = 'chat.exports.tasks.build_transcript_export'"
        " AND (args_kwargs->'kwargs'->>'export_id')::int = ANY(%s)",
        ids,
    )


def export_statuses(env: dict[str, str], ids: list[int]) -> dict[int, str]:
    rows = query(
        env["DATABASE_URL"], "SELECT id, status FROM chat_transcriptexport WHERE id = ANY(%s)", ids
    )
    return {int(pk): str(status) for pk, status in rows}  # type: ignore[call-overload]


def test_tasks_queued_while_the_worker_is_stopped_run_when_it_returns(worker_env, logs):
    url = worker_env["DATABASE_URL"]
    with db_worker(worker_env, worker_id="first", log=logs / "first.log") as worker:
        before = request_exports(worker_env, 2)
        eventually(
            lambda: set(export_statuses(worker_env, before).values()) == {"ready"},
            what="the first exports are ready",
            timeout=TIMEOUT,
        )
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0

    queued = request_exports(worker_env, 3)
    # No worker is running: nothing can take them, however long they wait.
    assert set(export_statuses(worker_env, queued).values()) == {"pending"}
    assert query(url, "SELECT count(*) FROM taskworker_workerheartbeat") == [(0,)]

    with db_worker(worker_env, worker_id="second", log=logs / "second.log"):
        eventually(
            lambda: set(export_statuses(worker_env, queued).values()) == {"ready"},
            what="the queued exports are ready",
            timeout=TIMEOUT,
        )
    # Each finished once: one notification per export, and one task result that succeeded.
    notified = query(
        url,
        "SELECT count(*) FROM notifications_notification WHERE verb = 'export_ready'"
        " AND target_url = ANY(%s)",
        [f"/exports/{pk}/download/" for pk in queued],
    )
    assert notified == [(3,)]
    ran = export_tasks(worker_env, queued)
    assert sorted(ran) == [("SUCCESSFUL", ["second"])] * 3


def test_a_task_whose_worker_is_killed_runs_again_and_completes(worker_env, logs, site):
    url = worker_env["DATABASE_URL"]
    calls: list[float] = []
    killed = threading.Event()

    def slow_then_fine(handler):
        calls.append(time.monotonic())
        if len(calls) == 1:
            killed.wait(TIMEOUT)  # the worker is killed while it waits for this
            return
        body = b"<html><head><title>Survived a SIGKILL</title></head></html>"
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    site.routes["/article"] = slow_then_fine
    with db_worker(worker_env, worker_id="doomed", log=logs / "doomed.log") as doomed:
        manage(
            worker_env,
            "shell",
            "--no-imports",
            "-c",
            "from chat.actions import messages as actions; from chat.models import Room;"
            " from django.contrib.auth.models import User;"
            " actions.message_post(room=Room.objects.get(slug='general'),"
            f" author=User.objects.get(username='grace'), body='read {site.url('/article')}',"
            " client_id=None)",
        )
        eventually(
            lambda: len(calls) == 1, what="the worker is in the middle of the task", timeout=TIMEOUT
        )
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
        killed.set()

    [(preview_id,)] = query(
        url, "SELECT id FROM chat_linkpreview WHERE url = %s", site.url("/article")
    )
    [(task_id, status, workers)] = query(
        url,
        "SELECT id, status, worker_ids FROM django_tasks_database_dbtaskresult"
        " WHERE task_path = 'chat.previews.tasks.fetch_link_preview'"
        " AND (args_kwargs->'kwargs'->>'preview_id')::int = %s",
        preview_id,
    )
    assert (status, workers) == ("RUNNING", ["doomed"])  # left behind by the dead worker

    with db_worker(worker_env, worker_id="rescuer", log=logs / "rescuer.log"):
        eventually(
            lambda: (
                query(
                    url,
                    "SELECT status, title FROM chat_linkpreview WHERE url = %s",
                    site.url("/article"),
                )
                == [("ready", "Survived a SIGKILL")]
            ),
            what="the preview is ready",
            timeout=TIMEOUT,
        )
    [(status, workers)] = query(
        url,
        "SELECT status, worker_ids FROM django_tasks_database_dbtaskresult WHERE id = %s",
        task_id,
    )
    assert (status, workers) == ("SUCCESSFUL", ["doomed", "rescuer"])
    assert len(calls) == 2
    assert (
        "Handed 1 task(s) of stopped workers back to the queue"
        in (logs / "rescuer.log").read_text()
    )


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(POSTGRES_PORT)
    yield proxy
    proxy.close()


def through(proxy: TcpProxy, env: dict[str, str]) -> dict[str, str]:
    """`env` with the database reached through `proxy`."""
    url = env["DATABASE_URL"].replace(f":{POSTGRES_PORT}/", f":{proxy.port}/")
    return {**env, "DATABASE_URL": url}


def test_the_worker_waits_out_database_outages_at_start_and_between_tasks(worker_env, logs, proxy):
    log = logs / "patient.log"
    proxy.cut()  # PostgreSQL is unreachable when the worker starts
    with db_worker(through(proxy, worker_env), worker_id="patient", log=log) as worker:
        eventually(
            lambda: "cannot reach the database" in log.read_text(),
            what="the worker says so",
            timeout=TIMEOUT,
        )
        proxy.restore()
        first = request_exports(worker_env, 1)
        eventually(
            lambda: set(export_statuses(worker_env, first).values()) == {"ready"},
            what="the first export is ready",
            timeout=TIMEOUT,
        )

        # The export is ready before its task is done (its notification, its result): the
        # next outage must find the worker waiting for work, not finishing the task.
        eventually(
            lambda: export_tasks(worker_env, first) == [("SUCCESSFUL", ["patient"])],
            what="the first export's task is done",
            timeout=TIMEOUT,
        )
        proxy.cut()  # and again, while it waits for work
        eventually(
            lambda: "lost the database" in log.read_text(),
            what="the worker notices",
            timeout=TIMEOUT,
        )
        queued = request_exports(worker_env, 2)
        assert worker.poll() is None, log.read_text()[-3000:]
        proxy.restore()
        eventually(
            lambda: set(export_statuses(worker_env, queued).values()) == {"ready"},
            what="the exports queued during the outage are ready",
            timeout=TIMEOUT,
        )
        assert worker.poll() is None, log.read_text()[-3000:]
    assert "Task worker patient reaches the database again" in log.read_text()
    ran = export_tasks(worker_env, first + queued)
    assert sorted(ran) == [("SUCCESSFUL", ["patient"])] * 3


def test_a_task_the_database_outage_interrupted_runs_again_once_it_is_back(
    worker_env, logs, proxy, site
):
    url = worker_env["DATABASE_URL"]
    log = logs / "interrupted.log"
    calls: list[float] = []
    answer = threading.Event()

    def slow_then_fine(handler):
        calls.append(time.monotonic())
        if len(calls) == 1:
            answer.wait(TIMEOUT)  # the database goes away meanwhile
        body = b"<html><head><title>Survived an outage</title></head></html>"
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    site.routes["/outage"] = slow_then_fine
    with db_worker(through(proxy, worker_env), worker_id="interrupted", log=log) as worker:
        manage(
            worker_env,
            "shell",
            "--no-imports",
            "-c",
            "from chat.actions import messages as actions; from chat.models import Room;"
            " from django.contrib.auth.models import User;"
            " actions.message_post(room=Room.objects.get(slug='general'),"
            f" author=User.objects.get(username='grace'), body='read {site.url('/outage')}',"
            " client_id=None)",
        )
        eventually(
            lambda: len(calls) == 1, what="the worker is in the middle of the task", timeout=TIMEOUT
        )
        proxy.cut()
        answer.set()  # the page arrives; saving the preview fails
        eventually(
            lambda: "lost the database" in log.read_text(),
            what="the worker notices",
            timeout=TIMEOUT,
        )
        proxy.restore()
        eventually(
            lambda: (
                query(
                    url,
                    "SELECT status, title FROM chat_linkpreview WHERE url = %s",
                    site.url("/outage"),
                )
                == [("ready", "Survived an outage")]
            ),
            what="the preview is ready",
            timeout=TIMEOUT,
        )
        assert worker.poll() is None, log.read_text()[-3000:]
    assert len(calls) == 2
    assert "interrupted by the database outage back to the queue" in log.read_text()
