from django.db import models
from django.utils import timezone


class WorkerHeartbeat(models.Model):
    """A task worker that is alive: it refreshes `seen_at` every few seconds while it runs.

    A task marked running by a worker whose heartbeat stopped was interrupted (the process was
    killed, the machine died) and is handed back to the queue.
    """

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.worker_id} on {self.hostname}:{self.pid}"
