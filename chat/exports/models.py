from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class TranscriptExport(models.Model):
    """A room's messages as a file for one person; built by a task that reports progress."""

    class Format(models.TextChoices):
        JSON = "json", "JSON"
        CSV = "csv", "CSV"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    room = models.ForeignKey("chat.Room", on_delete=models.CASCADE, related_name="exports")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="transcript_exports"
    )
    format = models.CharField(max_length=8, choices=Format.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    file = models.CharField(max_length=255, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.room_id} as {self.format} for {self.requested_by_id} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("chat:export_download", args=[self.pk])

    @property
    def filename(self) -> str:
        return f"{self.room.slug}-transcript-{self.pk}.{self.format}"
