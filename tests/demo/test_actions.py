"""demo_reset: guests and what they made go, everything else stays, the seed comes back."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from chat.actions import messages as message_actions
from chat.actions import rooms as room_actions
from chat.models import Attachment, Membership, Message, Room
from demo import actions
from demo.models import Guest, Use
from notifications.models import Notification
from realtime.groups import SITE_GROUP


@pytest.fixture
def demo_mode(settings, db):
    settings.DEMO_MODE = True


@pytest.fixture
def demo_pushes(monkeypatch):
    sent = []
    monkeypatch.setattr("demo.events.push_html", lambda group, html: sent.append((group, html)))
    return sent


def make_guest(hours_old: float) -> User:
    user = actions.guest_create(address="203.0.113.5")
    Guest.objects.filter(user=user).update(created_at=timezone.now() - timedelta(hours=hours_old))
    return user


def test_reset_removes_old_guests_with_what_they_made_and_nothing_else(
    demo_mode, ada, grace, demo_pushes, django_capture_on_commit_callbacks
):
    call_command("load_demo_data", stdout=None)
    general = Room.objects.get(slug="general")
    seed_messages = set(Message.objects.values_list("id", flat=True))
    old, young = make_guest(25), make_guest(1)
    message_actions.message_post(
        room=general, author=old, body="hi @ada, from an old guest", client_id=None
    )
    kept = message_actions.message_post(
        room=general, author=young, body="young guest", client_id=None
    )
    by_ada = message_actions.message_post(
        room=general, author=ada, body="a member's", client_id=None
    )
    theirs = room_actions.room_create(name="Guest room", slug="guest-room", created_by=old)
    message_actions.message_post(
        room=theirs, author=ada, body="in the guest's room", client_id=None
    )
    dm = room_actions.direct_open(user=grace, other=old)
    message_actions.message_post(room=dm, author=grace, body="to the guest", client_id=None)
    upload = message_actions.message_post(room=general, author=old, body="picture", client_id=None)
    original = default_storage.save("attachments/guest.png", ContentFile(b"png"))
    Attachment.objects.create(
        message=upload, original=original, content_type="image/png", width=1, height=1, size=3
    )
    demo_pushes.clear()

    with django_capture_on_commit_callbacks(execute=True):
        report = actions.demo_reset(older_than=timedelta(hours=24))

    assert report == actions.ResetReport(guests=1, rooms=2, messages=4, seed_restored=False)
    assert not User.objects.filter(pk=old.pk).exists()
    assert set(Room.objects.filter(pk__in=[theirs.pk, dm.pk])) == set()
    assert set(Message.objects.values_list("id", flat=True)) == seed_messages | {kept.id, by_ada.id}
    assert User.objects.filter(pk__in=[young.pk, ada.pk, grace.pk]).count() == 3
    assert not default_storage.exists(original)
    assert not Notification.objects.filter(recipient=ada).exists()  # the guest's mention of her
    [(group, reload)] = demo_pushes
    assert group == SITE_GROUP
    assert 'id="demo-reset"' in reload
    assert "data-reload" in reload


def test_reset_brings_back_missing_seed_data(
    demo_mode, demo_pushes, django_capture_on_commit_callbacks
):
    call_command("load_demo_data", stdout=None)
    Room.objects.filter(slug__in=["general", "founders"]).delete()
    with django_capture_on_commit_callbacks(execute=True):
        report = actions.demo_reset(older_than=timedelta(hours=24))
    assert report.seed_restored is True
    assert Message.objects.filter(room__slug="general").count() == 3
    founders = Room.objects.get(slug="founders")
    assert set(
        Membership.objects.filter(room=founders).values_list("user__username", flat=True)
    ) == {
        "ada",
        "grace",
    }
    assert [group for group, _ in demo_pushes] == [SITE_GROUP]


def test_a_reset_with_nothing_to_do_disturbs_nobody(
    demo_mode, demo_pushes, django_capture_on_commit_callbacks
):
    call_command("load_demo_data", stdout=None)
    make_guest(1)
    Use.objects.create(kind=Use.Kind.ROOM, address="203.0.113.5")
    Use.objects.filter(kind=Use.Kind.ROOM).update(created_at=timezone.now() - timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        report = actions.demo_reset(older_than=timedelta(hours=24))
    assert report == actions.ResetReport(guests=0, rooms=0, messages=0, seed_restored=False)
    assert demo_pushes == []
    # Only the young guest's sign-up still counts against its address; the rest is pruned.
    assert list(Use.objects.values_list("kind", flat=True)) == [Use.Kind.SIGNUP]


def test_the_command_refuses_outside_demo_mode(db):
    with pytest.raises(CommandError, match="DEMO_MODE=1"):
        call_command("demo_reset")


def test_the_command_takes_its_age_in_hours(demo_mode, demo_pushes, capsys):
    call_command("load_demo_data", stdout=None)
    make_guest(3)
    call_command("demo_reset", "--hours", "2")
    out = capsys.readouterr().out
    assert "Demo reset: 1 guests, 0 rooms and 0 messages removed; seed data intact." in out
    assert Guest.objects.count() == 0
