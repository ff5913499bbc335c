from django.conf import settings
from django.db import models
from django.utils import timezone


class Guest(models.Model):
    """An account made by the one-click guest sign-in (DEMO_MODE): no password, removed with
    everything it wrote by `manage.py demo_reset` once it is DEMO_GUEST_HOURS old."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="demo_guest"
    )
    address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="demo_guest_created")]

    def __str__(self) -> str:
        return f"guest {self.user_id}"


class Use(models.Model):
    """One limited action in DEMO_MODE (a sign-up, a room, an upload), by an account and an
    address: the hourly limits count these rows, so they hold across server processes."""

    class Kind(models.TextChoices):
        SIGNUP = "signup", "Sign-up"
        ROOM = "room", "Room"
        UPLOAD = "upload", "Upload"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["kind", "address", "created_at"], name="demo_use_by_address"),
            models.Index(fields=["kind", "user", "created_at"], name="demo_use_by_user"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.user_id or self.address}"
