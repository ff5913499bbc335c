import re

import pytest
from django.contrib.auth.models import User

from chat.actions import messages as message_actions
from notifications import actions
from notifications.models import Announcement, Notification


@pytest.fixture
def linus(make_user):
    return make_user("linus")


def test_a_mention_notifies_the_mentioned_once_and_pushes_on_commit(
    ada, grace, linus, room, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = message_actions.message_post(
            room=room, author=ada, body="@grace @Grace and @nobody, look", client_id=None
        )
    assert pushes.sent == []
    [notification] = Notification.objects.all()
    assert notification.recipient == grace
    assert notification.actor == ada
    assert notification.verb == Notification.Verb.MENTION
    assert notification.target_url == f"/rooms/general/#message-{message.id}"
    assert notification.excerpt == "@grace @Grace and @nobody, look"
    assert message.mentions == ["grace"]

    for callback in callbacks:
        callback()
    # One push for the room, one for the room lists (unread), one for grace's tabs (badge +
    # toast), one for her inbox tabs.
    assert len(pushes.to(f"chat.room.{room.id}")) == 1
    assert len(pushes.to(f"chat.activity.{room.id}")) == 1
    [personal] = pushes.to(f"user.{grace.id}")
    assert 'id="bell"' in personal
    assert 'data-count="1"' in personal
    assert 'hx-swap-oob="afterbegin:#toasts"' in personal
    [inbox] = pushes.to(f"user.{grace.id}.inbox")
    assert f'id="notification-{notification.id}"' in inbox
    assert not pushes.to(f"user.{linus.id}")
    assert len(pushes.sent) == 4


def test_the_room_sees_mentions_as_links_and_unknown_names_as_text(
    ada, grace, room, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message_actions.message_post(
            room=room, author=ada, body="hi @GRACE and @ghost", client_id=None
        )
    [html] = pushes.to(f"chat.room.{room.id}")
    assert '<a class="mention" href="/people/grace/">@grace</a>' in html
    assert "@ghost" in html
    assert 'href="/people/ghost/"' not in html


def test_mentioning_yourself_notifies_nobody(ada, room, pushes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message_actions.message_post(room=room, author=ada, body="note to @ada", client_id=None)
    assert Notification.objects.count() == 0
    assert not pushes.to(f"user.{ada.id}")


def test_inactive_users_are_not_mentioned(ada, grace, room, pushes):
    User.objects.filter(pk=grace.pk).update(is_active=False)
    message_actions.message_post(room=room, author=ada, body="@grace?", client_id=None)
    assert Notification.objects.count() == 0


def make_notifications(recipient, actor, count):
    return actions.notify(
        recipients=[recipient] * count,
        actor=actor,
        verb=Notification.Verb.MENTION,
        target_label="#general",
        target_url="/rooms/general/",
    )


def test_mark_read_updates_every_tab_once(ada, grace, pushes, django_capture_on_commit_callbacks):
    first, _second = make_notifications(grace, ada, 2)
    pushes.sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.notification_mark_read(user=grace, notification_id=first.id) is True
    [personal] = pushes.to(f"user.{grace.id}")
    assert 'data-count="1"' in personal
    [inbox] = pushes.to(f"user.{grace.id}.inbox")
    assert 'id="notification-list"' in inbox
    assert len(pushes.sent) == 2


def test_marking_read_twice_or_someone_elses_changes_nothing(
    ada, grace, pushes, django_capture_on_commit_callbacks
):
    [notification] = make_notifications(grace, ada, 1)
    pushes.sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.notification_mark_read(user=ada, notification_id=notification.id) is False
        assert actions.notification_mark_read(user=grace, notification_id=notification.id)
        assert not actions.notification_mark_read(user=grace, notification_id=notification.id)
    assert len(pushes.sent) == 2  # only the one real change


def test_mark_all_read(ada, grace, pushes, django_capture_on_commit_callbacks):
    make_notifications(grace, ada, 3)
    pushes.sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.notifications_mark_all_read(user=grace) == 3
        assert actions.notifications_mark_all_read(user=grace) == 0
    assert Notification.objects.filter(read_at__isnull=True).count() == 0
    [personal] = pushes.to(f"user.{grace.id}")
    assert 'data-count="0"' in personal


def test_an_announcement_is_stored_for_everyone_but_its_author_and_pushed_once(
    ada, grace, linus, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        announcement = actions.announcement_publish(author=ada, body="Maintenance at <b>noon</b>")
    recipients = set(Notification.objects.values_list("recipient__username", flat=True))
    assert recipients == {"grace", "linus"}
    assert Announcement.objects.get() == announcement
    [banner] = pushes.to("site")
    assert "Maintenance at &lt;b&gt;noon&lt;/b&gt;" in banner
    assert f'data-not-for="{ada.id}"' in banner
    assert "data-bump-bell" in banner
    [item] = pushes.to("site.inbox")
    assert f'id="announcement-{announcement.id}"' in item
    assert len(pushes.sent) == 2


def test_dismissing_an_announcement_clears_it_on_every_tab(
    ada, grace, pushes, django_capture_on_commit_callbacks
):
    announcement = actions.announcement_publish(author=ada, body="Hello all")
    pushes.sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.announcement_dismiss(user=grace, announcement_id=announcement.id)
    [personal] = pushes.to(f"user.{grace.id}")
    banner = re.search(r'<div id="announcement-banner".*?</div>', personal, re.S)
    assert banner
    assert "Hello all" not in banner.group(0)
    assert 'data-count="0"' in personal
