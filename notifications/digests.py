"""Writes made by the digest task: claiming the notifications an email carries, so that no
two runs carry the same one, and releasing them when the email could not be sent. Apart from
actions.py, which queues the task: the task module imports these, not the reverse."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from notifications.models import Notification


def digest_claim(*, user_id: int, cutoff: datetime) -> list[Notification]:
    """The user's due notifications, marked as emailed in the same transaction, so that no two
    runs carry the same one: each is emailed at most once."""
    with transaction.atomic():
        due = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(
                recipient_id=user_id,
                read_at__isnull=True,
                emailed_at__isnull=True,
                created_at__lte=cutoff,
            )
            .select_related("actor")
            .order_by("id")
        )
        Notification.objects.filter(id__in=[n.id for n in due]).update(emailed_at=timezone.now())
    return due


def digest_release(*, notification_ids: list[int]) -> None:
    """The email could not be sent: let the next run carry these."""
    Notification.objects.filter(id__in=notification_ids).update(emailed_at=None)
