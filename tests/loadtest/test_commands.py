import csv

from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command

from chat.actions.messages import message_post
from chat.actions.rooms import room_create
from chat.models import Room
from notifications.actions import announcement_publish
from notifications.models import Announcement, Notification


def test_loadtest_users_gives_working_session_cookies(client, db, tmp_path):
    output = tmp_path / "users.csv"
    call_command("loadtest_users", count=3, prefix="lt", output=str(output), staff=1)
    rows = list(csv.reader(output.read_text().splitlines()))
    assert [name for name, _ in rows] == ["lt-00000", "lt-00001", "lt-00002"]
    assert Room.objects.filter(slug="load-test").exists()

    client.cookies["sessionid"] = rows[1][1]
    response = client.get("/")
    assert response.status_code == 200
    assert "Signed in as" in response.content.decode()
    assert "lt-00001" in response.content.decode()
    assert not User.objects.get(username="lt-00000").has_usable_password()
    staff = User.objects.filter(username__startswith="lt-", is_staff=True)
    assert list(staff.values_list("username", flat=True)) == ["lt-00000"]

    call_command("loadtest_users", prefix="lt", delete=True)
    assert not User.objects.filter(username__startswith="lt-").exists()


def test_delete_removes_everything_the_kit_made(db, tmp_path):
    person = User.objects.create_user("person", password="x")
    general = Room.objects.create(name="General", slug="general")
    output = tmp_path / "users.csv"
    call_command("loadtest_users", count=2, prefix="lt", output=str(output), staff=1)
    call_command("loadtest_users", count=1, prefix="lt", room="general", output=str(output))
    staff, other = User.objects.filter(username__startswith="lt-").order_by("username")
    created = room_create(name="Made by a run", slug="made-by-a-run", created_by=other)
    message_post(room=general, author=other, body="hello", client_id=None)
    announcement_publish(author=staff, body="load test ltmark:run:announcer:0:1")
    assert Notification.objects.filter(recipient=person).count() == 1
    own_session = SessionStore()
    own_session["kept"] = True
    own_session.create()

    call_command("loadtest_users", prefix="lt", delete=True)

    assert not User.objects.filter(username__startswith="lt-").exists()
    assert not Room.objects.filter(slug="load-test").exists()  # made by loadtest_users
    assert not Room.objects.filter(pk=created.pk).exists()  # made by a run (--create-room)
    assert Room.objects.filter(pk=general.pk).exists()  # existed before: kept
    assert not Announcement.objects.exists()
    assert not Notification.objects.filter(recipient=person).exists()
    assert list(Session.objects.values_list("session_key", flat=True)) == [own_session.session_key]
