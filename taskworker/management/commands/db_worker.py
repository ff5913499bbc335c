"""django-tasks-db's `db_worker`, with a heartbeat, the reclaiming of tasks whose worker
died, and a worker that waits out database outages (see taskworker.worker). Same options;
`manage.py db_worker --help`."""

import os
from typing import Any

from django.core.management import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from taskworker.worker import Heartbeat, ResilientWorker


class Command(db_worker.Command):
    help = (
        "Run a database task worker. It beats a heartbeat, puts the tasks of workers that "
        "stopped beating back in the queue, and keeps running through database outages."
    )

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options: Any,
    ) -> None:
        # The upstream command's handle(), with ResilientWorker in place of its Worker.
        self.configure_logging(verbosity)
        if reload and batch:
            db_worker.logger.warning(
                "Warning: --reload and --batch cannot be specified together. Disabling autoreload."
            )
            reload = False
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = ResilientWorker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded_queue_names,
        )
        # With the autoreloader only the child process runs tasks, so only it beats.
        runs_tasks = not reload or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true"
        heartbeat = Heartbeat(worker_id) if runs_tasks else None
        if heartbeat is not None:
            heartbeat.start_when_database_answers()
        try:
            if reload:
                if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                    worker.configure_signals()
                run_with_reloader(worker.run)
            else:
                worker.configure_signals()
                worker.run()
        finally:
            if heartbeat is not None:
                heartbeat.stop()
