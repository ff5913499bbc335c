"""Email digests: notifications left unread for NOTIFICATIONS_DIGEST_DELAY seconds are emailed,
one email per person, each notification at most once."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.tasks import task
from django.urls import reverse
from django.utils import timezone

from notifications import digests, logic, queries
from taskworker import retries


@task()
def send_digests(*, attempt: int = 1) -> None:
    retries.attempt(
        send_digests,
        attempt=attempt,
        kwargs={},
        work=digests_send,
        # Nothing to show: what was not sent is released and goes out with a later run.
        gave_up=lambda error: None,
    )


def digests_send() -> None:
    cutoff = timezone.now() - timedelta(seconds=settings.NOTIFICATIONS_DIGEST_DELAY)
    failed: Exception | None = None
    for user_id in queries.digest_recipients_due(cutoff=cutoff):
        try:
            digest_send(user_id=user_id, cutoff=cutoff)
        except Exception as error:  # one bad address must not hold back everyone else's
            failed = error
    if failed is not None:
        raise failed


def digest_send(*, user_id: int, cutoff: datetime) -> None:
    user = User.objects.get(pk=user_id)
    due = digests.digest_claim(user_id=user_id, cutoff=cutoff)
    if not due:
        return
    lines = [
        logic.digest_line(
            actor=n.actor.get_username() if n.actor else None,
            verb=n.get_verb_display(),
            target_label=n.target_label,
            excerpt=n.excerpt,
        )
        for n in due
    ]
    body = logic.digest_body(
        username=user.get_username(),
        lines=lines,
        inbox_url=settings.SITE_URL + reverse("notifications:inbox"),
    )
    try:
        send_mail(logic.digest_subject(len(due)), body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except Exception:
        digests.digest_release(notification_ids=[n.id for n in due])
        raise
