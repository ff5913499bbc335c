"""The embedded topology runs its task worker inside the server process: the ASGI application
starts it on the server's event loop the first time it is called (not on import, so that
manage.py commands and tests that import the application start nothing), and the server stops
it when it shuts down (realtime.asgi)."""

import asyncio
import logging
from typing import Any

from taskworker.worker import run_embedded_worker

logger = logging.getLogger(__name__)

ASGIApp = Any

# How long a stopping server waits for the task in progress: within the 10 s a service manager
# usually allows before SIGKILL. A task cut off stays RUNNING with a heartbeat that no longer
# beats, and the next worker runs it again.
STOP_SECONDS = 8.0

# The workers this process started and has not stopped yet.
running_workers: set[asyncio.Task[None]] = set()


def with_embedded_worker(app: ASGIApp) -> ASGIApp:
    started: list[asyncio.Task[None]] = []

    async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not started:
            worker = asyncio.get_running_loop().create_task(run_embedded_worker())
            started.append(worker)
            running_workers.add(worker)
            worker.add_done_callback(running_workers.discard)
        await app(scope, receive, send)

    return application


async def stop_embedded_workers() -> None:
    """The server is stopping: each worker finishes the task it is running (its result saved
    and pushed while the sockets are still there), ends its heartbeat and stops. Queued tasks
    stay queued for the next start."""
    workers = [worker for worker in running_workers if not worker.done()]
    if not workers:
        return
    for worker in workers:
        worker.cancel()
    _, unfinished = await asyncio.wait(workers, timeout=STOP_SECONDS)
    if unfinished:
        logger.warning(
            "The embedded task worker did not stop within %s s; its task will run again",
            STOP_SECONDS,
        )
