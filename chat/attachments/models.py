from django.db import models


class Attachment(models.Model):
    """An image attached to a message. The original is stored as uploaded (after Pillow
    decoded it); the thumbnail is made by a task."""

    class Status(models.TextChoices):
        PENDING = "pending", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    message = models.OneToOneField(
        "chat.Message", on_delete=models.CASCADE, related_name="attachment"
    )
    original = models.CharField(max_length=255)
    content_type = models.CharField(max_length=50)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    thumbnail = models.CharField(max_length=255, blank=True)
    thumbnail_width = models.PositiveIntegerField(null=True, blank=True)
    thumbnail_height = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.original} ({self.status})"
