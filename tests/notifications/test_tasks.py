"""Email digests: what is due goes out once, in one email per person."""

from datetime import timedelta

import pytest
from django.core import mail
from django.tasks.base import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from notifications import actions
from notifications.models import Notification
from notifications.tasks import send_digests

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(ada, grace, make_user):
    ada.email, grace.email = "ada@example.com", "grace@example.com"
    ada.save()
    grace.save()
    return ada, grace, make_user("linus")  # linus has no address


def mention(recipient, actor, *, minutes_ago, read=False):
    return Notification.objects.create(
        recipient=recipient,
        actor=actor,
        verb=Notification.Verb.MENTION,
        target_label="#general",
        target_url="/rooms/general/#message-1",
        excerpt="hello @you",
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        read_at=timezone.now() if read else None,
    )


def test_notify_schedules_a_digest_run_after_the_delay(
    people, settings, django_capture_on_commit_callbacks, frozen_now
):
    ada, grace, _ = people
    settings.NOTIFICATIONS_DIGEST_DELAY = 600
    with django_capture_on_commit_callbacks(execute=True):
        actions.notify(
            recipients=[grace],
            actor=ada,
            verb=Notification.Verb.MENTION,
            target_label="#general",
            target_url="/",
        )
    task = DBTaskResult.objects.get()
    assert task.task_path == "notifications.tasks.send_digests"
    assert task.run_after == frozen_now + timedelta(seconds=601)  # the delay, and a second


def test_due_unread_notifications_are_emailed_once(people, run_tasks, settings):
    ada, grace, linus = people
    settings.NOTIFICATIONS_DIGEST_DELAY = 15 * 60
    first = mention(grace, ada, minutes_ago=30)
    second = mention(grace, None, minutes_ago=20)
    mention(grace, ada, minutes_ago=5)  # not due yet
    mention(grace, ada, minutes_ago=40, read=True)  # read: never emailed
    mention(ada, grace, minutes_ago=16)
    mention(linus, ada, minutes_ago=60)  # no address

    send_digests.enqueue()
    run_tasks()
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "grace@example.com"]
    to_grace = next(m for m in mail.outbox if m.to == ["grace@example.com"])
    assert to_grace.subject == "You have 2 unread notifications on Relay"
    assert "- ada mentioned you in #general: “hello @you”" in to_grace.body
    assert "http://localhost:8000/notifications/" in to_grace.body
    assert set(
        Notification.objects.filter(emailed_at__isnull=False).values_list("id", flat=True)
    ) >= {
        first.id,
        second.id,
    }

    send_digests.enqueue()
    run_tasks()
    assert len(mail.outbox) == 2  # nothing twice


def test_a_failed_send_is_retried_and_still_sent_once(people, run_tasks, monkeypatch, settings):
    ada, grace, _ = people
    settings.NOTIFICATIONS_DIGEST_DELAY = 60
    mention(grace, ada, minutes_ago=5)
    calls = []

    def flaky_send(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise OSError("SMTP server unreachable")
        return real_send(*args, **kwargs)

    from django.core.mail import send_mail as real_send

    monkeypatch.setattr("notifications.tasks.send_mail", flaky_send)
    send_digests.enqueue()
    run_tasks()
    assert mail.outbox == []
    assert not Notification.objects.filter(emailed_at__isnull=False).exists()  # released
    retry = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    assert retry.args_kwargs["kwargs"] == {"attempt": 2}

    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    run_tasks()
    assert len(mail.outbox) == 1
    assert Notification.objects.get().emailed_at is not None
