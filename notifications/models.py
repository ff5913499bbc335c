from django.conf import settings
from django.db import models
from django.utils import timezone


class Announcement(models.Model):
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.body[:60]


class Notification(models.Model):
    class Verb(models.TextChoices):
        MENTION = "mention", "mentioned you"
        ANNOUNCEMENT = "announcement", "announced"
        INVITATION = "invitation", "invited you"
        EXPORT_READY = "export_ready", "Your transcript export is ready"
        DIRECT = "direct", "wrote to you"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=32, choices=Verb.choices)
    # What the notification is about: a label to show and a link to it.
    target_label = models.CharField(max_length=200)
    target_url = models.CharField(max_length=500)
    excerpt = models.CharField(max_length=300, blank=True)
    announcement = models.ForeignKey(
        Announcement, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # Set when the notification went out in an email digest; each one is emailed at most once.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notification_inbox"),
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.verb} for {self.recipient_id}: {self.target_label}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def preposition(self) -> str:
        """Joins the verb to the target: "mentioned you in #general", "invited you to #plans"."""
        return "to" if self.verb == self.Verb.INVITATION else "in"
