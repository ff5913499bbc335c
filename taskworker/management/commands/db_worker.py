"""django-tasks-db's `db_worker`, with a heartbeat and the reclaiming of tasks whose worker
died (see taskworker.worker). Same options; `manage.py db_worker --help`."""

import os
from typing import Any

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from taskworker.worker import Heartbeat


class Command(db_worker.Command):
    help = (
        "Run a database task worker. It beats a heartbeat and puts the tasks of workers that "
        "stopped beating back in the queue."
    )

    def handle(self, *args: Any, worker_id: str, reload: bool, batch: bool, **options: Any) -> None:
        # With the autoreloader only the child process runs tasks, so only it beats.
        runs_tasks = not reload or batch or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true"
        heartbeat = Heartbeat(worker_id) if runs_tasks else None
        if heartbeat is not None:
            heartbeat.start()
        try:
            super().handle(*args, worker_id=worker_id, reload=reload, batch=batch, **options)
        finally:
            if heartbeat is not None:
                heartbeat.stop()
