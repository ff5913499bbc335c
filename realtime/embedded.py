"""The embedded topology's workers, run inside the server process.

In the embedded default (`make run`: no REDIS_URL) the task worker (taskworker.worker) and the
pageview worker (pageviews.consumers.PageviewWorker, the consumer `runworker pageviews` runs,
reading the in-memory channel layer) run on the server's event loop instead of in processes
of their own. Both start when the server starts and stop when it stops: realtime.asgi runs
`start_embedded_workers` and `stop_embedded_workers` through the ASGI lifespan protocol under
uvicorn (realtime.lifespan), and from the reactor's startup and shutdown triggers under
Daphne, which does not speak that protocol (realtime.server). In production
TASK_WORKER_EMBEDDED and PAGEVIEWS_EMBEDDED_WORKER are off, separate workers run, and nothing
starts here. Nothing starts on import either: manage.py commands and tests that import the
application start nothing.
"""

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from channels.layers import get_channel_layer
from channels.worker import Worker
from django.conf import settings

from realtime.routing import channel_application
from taskworker.worker import run_embedded_worker

logger = logging.getLogger(__name__)

TASK_WORKER = "task worker"
PAGEVIEW_WORKER = "pageview worker"

# How long a stopping server waits for the task in progress: within the 10 s a service manager
# usually allows before SIGKILL. A task cut off stays RUNNING with a heartbeat that no longer
# beats, and the next worker runs it again.
STOP_SECONDS = 8.0

# The workers this process started and has not stopped yet, with what each is.
running_workers: dict["asyncio.Task[None]", str] = {}


def start_embedded_workers() -> None:
    """On the server's event loop, as it starts: each worker the settings embed."""
    if settings.TASK_WORKER_EMBEDDED:
        start(TASK_WORKER, run_embedded_worker())
    if settings.PAGEVIEWS_EMBEDDED_WORKER:
        start(PAGEVIEW_WORKER, run_pageview_worker())


def start(name: str, work: Coroutine[Any, Any, None]) -> None:
    worker = asyncio.get_running_loop().create_task(work, name=f"embedded {name}")
    running_workers[worker] = name
    worker.add_done_callback(forget)


def forget(worker: "asyncio.Task[None]") -> None:
    running_workers.pop(worker, None)


async def run_pageview_worker() -> None:
    """The Channels worker `runworker pageviews` runs, on this process's layer. Its listener
    and application checker run inside this one task, so that cancelling it stops them all
    (Channels' Worker.arun leaves its listeners running when cancelled)."""
    worker = Worker(
        application=channel_application,
        channels=[settings.PAGEVIEWS_CHANNEL],
        channel_layer=get_channel_layer(settings.PAGEVIEWS_LAYER),
    )
    try:
        await asyncio.gather(
            worker.application_checker(), worker.listener(settings.PAGEVIEWS_CHANNEL)
        )
    finally:
        for scope_id in list(worker.application_instances):
            worker.delete_application_instance(scope_id)


async def stop_embedded_workers() -> None:
    """The server is stopping: each worker is cancelled. The task worker finishes the task it
    is running (its result saved; the pages, closed with 1012 meanwhile, read it when they
    resume), ends its heartbeat and stops; queued tasks stay queued for the next start. The
    pageview worker stops at once: views it has not saved yet are not counted (counters are
    approximate)."""
    workers = [worker for worker in running_workers if not worker.done()]
    if not workers:
        return
    names = {worker: running_workers[worker] for worker in workers}
    for worker in workers:
        worker.cancel()
    _, unfinished = await asyncio.wait(workers, timeout=STOP_SECONDS)
    for worker in unfinished:
        logger.warning(
            "The embedded %s did not stop within %s s%s",
            names[worker],
            STOP_SECONDS,
            "; its task will run again" if names[worker] == TASK_WORKER else "",
        )
