"""What keeps durable tasks durable: heartbeats, handing back the tasks of dead workers, and
the worker that runs inside the server process in the embedded topology.

django-tasks-db marks a task RUNNING when a worker claims it and never looks at it again: if
that worker is killed (SIGKILL, out of memory, the machine dies) the task stays RUNNING forever.
Every worker here beats a heartbeat, and every worker hands back to the queue the running
tasks whose worker has stopped beating, so they run again.
"""

import asyncio
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, OperationalError, close_old_connections, connection
from django.tasks.base import DEFAULT_TASK_BACKEND_ALIAS, TaskResultStatus
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from taskworker.logic import RunningTask, backoff_delay, stale_task_ids
from taskworker.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

HEARTBEATS_KEPT = timedelta(days=1)
END_ATTEMPTS = 5
START_RETRY_MAX_DELAY = 30.0
# While the database is unreachable, a worker tries again after 0.5 s, 1 s, 2 s... up to this.
OUTAGE_RETRY_BASE_DELAY = 0.5
OUTAGE_RETRY_MAX_DELAY = 5.0


def heartbeat_beat(*, worker_id: str) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"seen_at": now},
        create_defaults={
            "seen_at": now,
            "started_at": now,
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
        },
    )


def heartbeat_end(*, worker_id: str) -> None:
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def stale_tasks_reclaim() -> list[str]:
    """Put the running tasks of workers that stopped beating back in the queue."""
    now = timezone.now()
    stale_after = timedelta(seconds=settings.TASK_WORKER_STALE_AFTER)
    live = set(
        WorkerHeartbeat.objects.filter(seen_at__gte=now - stale_after).values_list(
            "worker_id", flat=True
        )
    )
    running = [
        RunningTask(
            id=str(row.id),
            worker_id=row.worker_ids[-1] if row.worker_ids else None,
            started_at=row.started_at,
        )
        for row in DBTaskResult.objects.running().only("id", "worker_ids", "started_at")
    ]
    stale = stale_task_ids(running, live_workers=live, now=now, grace=stale_after)
    if stale:
        # Only rows still RUNNING: a worker that finished meanwhile keeps its result.
        handed_back = DBTaskResult.objects.filter(
            id__in=stale, status=TaskResultStatus.RUNNING
        ).update(status=TaskResultStatus.READY, started_at=None)
        logger.warning(
            "Handed %d task(s) of stopped workers back to the queue: %s",
            handed_back,
            ", ".join(stale),
        )
    WorkerHeartbeat.objects.filter(seen_at__lt=now - HEARTBEATS_KEPT).delete()
    return stale


def own_tasks_requeue(*, worker_id: str) -> list[str]:
    """Put back in the queue the tasks this worker claimed and is no longer running: their
    result could not be saved because the database went away mid-task. Its heartbeat goes on
    beating, so no other worker would ever take them for a dead worker's."""
    mine = [
        str(row.id)
        for row in DBTaskResult.objects.running().only("id", "worker_ids")
        if row.worker_ids and row.worker_ids[-1] == worker_id
    ]
    if mine:
        DBTaskResult.objects.filter(id__in=mine, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.READY, started_at=None
        )
        logger.warning(
            "Handed %d task(s) interrupted by the database outage back to the queue: %s",
            len(mine),
            ", ".join(mine),
        )
    return mine


def outage_delay(failures: int) -> float:
    return backoff_delay(failures, base=OUTAGE_RETRY_BASE_DELAY, cap=OUTAGE_RETRY_MAX_DELAY)


class Heartbeat:
    """A thread beside a worker: beats every TASK_WORKER_HEARTBEAT seconds and reclaims the
    tasks of dead workers. The first beat happens before the worker claims anything."""

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self.stopped = threading.Event()
        self.next_reclaim = 0.0
        self.thread = threading.Thread(target=self.run, name=f"heartbeat-{worker_id}", daemon=True)

    def start(self) -> None:
        self.pulse()
        connection.close()
        self.thread.start()

    def start_when_database_answers(self) -> None:
        """start(), tried again with backoff for as long as the database is unreachable."""
        failures = 0
        while True:
            try:
                self.start()
                return
            except DatabaseError as error:
                connection.close()
                failures += 1
                if failures == 1:
                    logger.warning(
                        "Task worker %s cannot reach the database (%s); trying until it answers",
                        self.worker_id,
                        str(error).strip() or type(error).__name__,
                    )
                time.sleep(outage_delay(failures))

    def pulse(self) -> None:
        heartbeat_beat(worker_id=self.worker_id)
        # Looking for stale tasks scans the running ones: often enough to notice a dead worker
        # soon after TASK_WORKER_STALE_AFTER, not at every beat.
        now = time.monotonic()
        if now >= self.next_reclaim:
            stale_tasks_reclaim()
            self.next_reclaim = now + settings.TASK_WORKER_STALE_AFTER / 4

    def run(self) -> None:
        try:
            while not self.stopped.wait(settings.TASK_WORKER_HEARTBEAT):
                try:
                    self.pulse()
                except Exception:
                    logger.exception("Task worker heartbeat failed; trying again")
                    connection.close()
            self.end()
        finally:
            connection.close()

    def end(self) -> None:
        # A worker that stops without removing its heartbeat looks dead to the others only
        # after TASK_WORKER_STALE_AFTER: worth a few tries when the database is busy.
        for attempt in range(1, END_ATTEMPTS + 1):
            try:
                heartbeat_end(worker_id=self.worker_id)
                return
            except DatabaseError:
                logger.warning(
                    "Could not remove the heartbeat of %s (try %d of %d)",
                    self.worker_id,
                    attempt,
                    END_ATTEMPTS,
                    exc_info=True,
                )
                connection.close()
                time.sleep(0.1 * attempt)

    def stop(self) -> None:
        self.stopped.set()
        if self.thread.ident is None:
            # start() failed after the first beat, or never ran: no thread will end the beat.
            try:
                self.end()
            finally:
                connection.close()
            return
        self.thread.join(timeout=settings.TASK_WORKER_HEARTBEAT + 5)


class ResilientWorker(Worker):
    """django-tasks-db's worker, which ends at the first database error (a restart, a
    failover, a dropped connection), made to wait the outage out: it tries again with backoff,
    and once the database answers it hands back the task the outage interrupted, then works
    as before."""

    def run(self) -> None:
        failures = 0
        while True:
            try:
                if failures:
                    own_tasks_requeue(worker_id=self.worker_id)
                    logger.warning(
                        "Task worker %s reaches the database again after %d failed tries",
                        self.worker_id,
                        failures,
                    )
                    failures = 0
                super().run()
                return
            except DatabaseError as error:
                if not self.running:
                    raise
                connection.close()
                failures += 1
                if failures == 1:
                    logger.warning(
                        "Task worker %s lost the database (%s); trying until it answers",
                        self.worker_id,
                        str(error).strip() or type(error).__name__,
                    )
                time.sleep(outage_delay(failures))


def claim_and_run_one(worker: Worker) -> bool:
    """Claim the next ready task and run it; False when there was none (or the database was
    busy). The same claim as django-tasks-db's worker loop, one task at a time."""
    close_old_connections()
    ready = DBTaskResult.objects.ready().filter(backend_name=worker.backend_name)
    try:
        with exclusive_transaction(ready.db):
            claimed = ready.get_locked()
            if claimed is not None:
                claimed.claim(worker.worker_id)
    except OperationalError as error:
        if is_locked_database_exception(error):
            return False
        raise
    if claimed is None:
        return False
    try:
        worker.run_task(claimed)
    finally:
        close_old_connections()
    return True


def new_worker(worker_id: str) -> Worker:
    return Worker(
        queue_names=["*"],
        interval=settings.TASK_WORKER_INTERVAL,
        batch=False,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )


async def run_embedded_worker() -> None:
    """The embedded topology's task worker, on the server's event loop. Each task runs in a
    worker thread; its live pushes go through this loop (asgiref routes them here), which is
    what the in-memory channel layer needs. Cancelled (realtime.embedded), it lets the task in
    progress finish, then ends its heartbeat and stops, so that nobody takes it for a dead
    worker."""
    worker_id = f"embedded-{get_random_string(12)}"
    worker = new_worker(worker_id)
    heartbeat = Heartbeat(worker_id)
    try:
        delay = settings.TASK_WORKER_INTERVAL
        while True:  # the database may be down when the server starts
            try:
                await in_thread(heartbeat.start)
                break
            except Exception:
                logger.exception("The embedded task worker could not start; trying again")
                await asyncio.sleep(delay)
                delay = min(delay * 2, START_RETRY_MAX_DELAY)
        logger.info("Task worker %s running inside the server process", worker_id)
        failed = False
        while True:
            try:
                if failed:
                    await in_thread(own_tasks_requeue, worker_id=worker_id)
                    failed = False
                ran = await in_thread(claim_and_run_one, worker)
            except Exception:
                logger.exception("The embedded task worker failed; trying again")
                ran = False
                failed = True
            if not ran:
                await asyncio.sleep(settings.TASK_WORKER_INTERVAL)
    finally:
        await asyncio.to_thread(heartbeat.stop)
        logger.info("Task worker %s stopped", worker_id)


async def in_thread[**P, T](function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`function` in a worker thread. A cancelled sync_to_async returns at once while its
    thread runs on; cancelled, this waits for the thread to finish first (a task's result
    saved and pushed, a heartbeat started that the caller can then stop)."""
    call = asyncio.ensure_future(sync_to_async(function, thread_sensitive=False)(*args, **kwargs))
    try:
        return await asyncio.shield(call)
    except asyncio.CancelledError:
        try:
            await call
        except Exception:
            logger.exception("%s failed while the task worker was stopping", function.__name__)
        raise
