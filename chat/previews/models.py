from django.db import models
from django.utils import timezone


class LinkPreview(models.Model):
    """The card shown under a message that links somewhere: fetched by a task after posting.
    Every text field came from a page on the internet: hostile input, always escaped."""

    class Status(models.TextChoices):
        PENDING = "pending", "Fetching"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    message = models.OneToOneField(
        "chat.Message", on_delete=models.CASCADE, related_name="link_preview"
    )
    url = models.URLField(max_length=2000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    title = models.CharField(max_length=300, blank=True)
    description = models.CharField(max_length=500, blank=True)
    site_name = models.CharField(max_length=200, blank=True)
    # The page's image, fetched and shrunk here: browsers never load it from the other site.
    image = models.CharField(max_length=255, blank=True)
    error = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.url} ({self.status})"
