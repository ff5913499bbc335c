"""Writes. Each action changes state atomically and schedules its pushes on commit."""

from collections.abc import Iterable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from notifications import events
from notifications.models import Announcement, Notification
from notifications.tasks import send_digests

BATCH_SIZE = 1000


def notify(
    *,
    recipients: Iterable[User],
    actor: User | None,
    verb: Notification.Verb,
    target_label: str,
    target_url: str,
    excerpt: str = "",
) -> list[Notification]:
    """One notification per recipient, never to the actor; each pushed to its recipient."""
    rows = [
        Notification(
            recipient=recipient,
            actor=actor,
            verb=verb,
            target_label=target_label,
            target_url=target_url,
            excerpt=excerpt,
        )
        for recipient in recipients
        if actor is None or recipient.pk != actor.pk
    ]
    if not rows:
        return rows
    with transaction.atomic():
        Notification.objects.bulk_create(rows)
        for row in rows:
            transaction.on_commit(partial(events.notification_created, row), robust=True)
        digest_schedule()
    return rows


def notification_mark_read(*, user: User, notification_id: int) -> bool:
    return bool(_mark_read(user, id=notification_id))


def notifications_mark_all_read(*, user: User) -> int:
    return _mark_read(user)


def announcement_dismiss(*, user: User, announcement_id: int) -> bool:
    return bool(_mark_read(user, announcement_id=announcement_id))


def notifications_mark_read_about(*, user: User, verb: str, url_prefix: str) -> int:
    """The user's unread notifications of `verb` whose link starts so (e.g. of a direct
    conversation they have just read)."""
    return _mark_read(user, verb=verb, target_url__startswith=url_prefix)


def _mark_read(user: User, **which: int | str) -> int:
    """Mark the user's unread notifications matching `which` read; push the new state to
    every tab of theirs if anything changed."""
    with transaction.atomic():
        changed = Notification.objects.filter(recipient=user, read_at__isnull=True, **which).update(
            read_at=timezone.now()
        )
        if changed:
            transaction.on_commit(partial(events.read_state_changed, user.pk), robust=True)
    return changed


def announcement_publish(*, author: User, body: str) -> Announcement:
    """Store the announcement for every active user but its author, and show it live on every
    connected tab with one push to the whole site."""
    with transaction.atomic():
        announcement = Announcement.objects.create(author=author, body=body)
        recipient_ids = (
            User.objects.filter(is_active=True).exclude(pk=author.pk).values_list("id", flat=True)
        )
        Notification.objects.bulk_create(
            (
                Notification(
                    recipient_id=recipient_id,
                    actor=author,
                    verb=Notification.Verb.ANNOUNCEMENT,
                    target_label="Announcement",
                    target_url="",
                    excerpt=body[:300],
                    announcement=announcement,
                )
                for recipient_id in recipient_ids.iterator()
            ),
            batch_size=BATCH_SIZE,
        )
        transaction.on_commit(partial(events.announcement_published, announcement), robust=True)
        digest_schedule()
    return announcement


def digest_schedule() -> None:
    """On commit: a digest run once the new notifications are old enough to be due."""
    transaction.on_commit(_enqueue_digest, robust=True)


def _enqueue_digest() -> None:
    due = timezone.now() + timedelta(seconds=settings.NOTIFICATIONS_DIGEST_DELAY + 1)
    send_digests.using(run_after=due).enqueue()
