import uuid

import pytest
from django_tasks_db.models import DBTaskResult

from chat.actions import messages as message_actions
from chat.actions import rooms as room_actions
from chat.actions import unread as unread_actions
from chat.exports import actions as export_actions
from chat.exports import results as export_results
from chat.models import LinkPreview, Message, ReadCursor, Room, TranscriptExport
from notifications.models import Notification
from realtime.validation import Invalid
from taskworker import retries


def test_message_post_saves_then_pushes_once_on_commit(
    ada, room, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = message_actions.message_post(room=room, author=ada, body="hello", client_id=None)
    assert Message.objects.get() == message
    assert pushes.sent == []  # nothing leaves before the data is durable

    for callback in callbacks:
        callback()
    # The message to the room; to the room lists, only which message it is and whose.
    assert [group for group, _ in pushes.sent] == [
        f"chat.room.{room.id}",
        f"chat.activity.{room.id}",
    ]
    [html] = pushes.to(f"chat.room.{room.id}")
    assert f'id="message-{message.id}"' in html
    assert 'hx-swap-oob="beforeend:#messages"' in html
    [activity] = pushes.to(f"chat.activity.{room.id}")
    assert activity == (
        f'<span id="room-activity-{room.id}" class="room-activity" data-room="{room.id}" '
        f'data-newest="{message.id}" data-author="{ada.id}" hidden hx-swap-oob="true"></span>'
    )


@pytest.mark.parametrize(
    ("body", "shows"), [("plain words", ""), ("see https://example.com/x", 'id="preview-')]
)
def test_the_push_of_a_new_message_renders_without_queries(
    ada, room, pushes, django_capture_on_commit_callbacks, django_assert_num_queries, body, shows
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message_actions.message_post(room=room, author=ada, body=body, client_id=None)
    with django_assert_num_queries(0):  # no attachment or preview lookups per message
        for callback in callbacks:
            if getattr(callback, "func", None) is not retries.enqueue:
                callback()
    [html] = pushes.to(f"chat.room.{room.id}")
    assert shows in html


def test_message_post_escapes_and_links(ada, room, pushes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message_actions.message_post(
            room=room,
            author=ada,
            body="<script>x()</script> see https://example.com",
            client_id=None,
        )
    [html] = pushes.to(f"chat.room.{room.id}")
    assert "<script>" not in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html
    assert '<a href="https://example.com" rel="nofollow">https://example.com</a>' in html


def test_message_post_is_idempotent_per_client_id(
    ada, room, pushes, django_capture_on_commit_callbacks
):
    client_id = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        first = message_actions.message_post(
            room=room, author=ada, body="once", client_id=client_id
        )
        again = message_actions.message_post(
            room=room, author=ada, body="once", client_id=client_id
        )
    assert first == again
    assert Message.objects.count() == 1
    # The room lists once; the room twice: a retry may come because the first push never
    # left, and pages show a message id once.
    assert [group for group, _ in pushes.sent] == [
        f"chat.room.{room.id}",
        f"chat.activity.{room.id}",
        f"chat.room.{room.id}",
    ]
    assert pushes.to(f"chat.room.{room.id}")[0] == pushes.to(f"chat.room.{room.id}")[1]


def test_same_client_id_from_two_authors_is_two_messages(ada, grace, room, pushes):
    client_id = uuid.uuid4()
    message_actions.message_post(room=room, author=ada, body="a", client_id=client_id)
    message_actions.message_post(room=room, author=grace, body="g", client_id=client_id)
    assert Message.objects.count() == 2


def test_nothing_is_pushed_when_the_transaction_rolls_back(ada, room, pushes):
    from django.db import transaction

    def post_then_fail() -> None:
        with transaction.atomic():
            message_actions.message_post(room=room, author=ada, body="lost", client_id=None)
            raise RuntimeError("the surrounding work failed")

    with pytest.raises(RuntimeError):
        post_then_fail()
    assert Message.objects.count() == 0
    assert pushes.sent == []


def test_room_create_pushes_sidebar_link_once(ada, pushes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = room_actions.room_create(name="Design", slug="design", created_by=ada)
    assert Room.objects.get() == created
    [(group, html)] = pushes.sent
    assert group == "chat.lobby"
    assert f'id="room-link-{created.id}"' in html
    assert 'hx-swap-oob="beforeend:#room-list"' in html


@pytest.mark.parametrize(("name", "slug"), [("general", "general-2"), ("Other", "general")])
def test_room_create_refuses_taken_names(ada, room, pushes, name, slug):
    with pytest.raises(Invalid, match="already exists"):
        room_actions.room_create(name=name, slug=slug, created_by=ada)
    assert Room.objects.count() == 1
    assert pushes.sent == []


def test_a_failing_push_does_not_lose_the_message(
    ada, room, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broken_push(group: str, html: str) -> None:
        raise ConnectionError("channel layer is down")

    monkeypatch.setattr("chat.events.push_html", broken_push)
    with django_capture_on_commit_callbacks(execute=True):
        message = message_actions.message_post(room=room, author=ada, body="kept", client_id=None)
    assert Message.objects.get() == message
    assert "channel layer is down" in caplog.text


def say(room, author, count):
    return [Message.objects.create(room=room, author=author, body=f"m{i}") for i in range(count)]


def cursor(user, room):
    return ReadCursor.objects.get(user=user, room=room).last_read_id


def test_mark_read_moves_the_cursor_and_pushes_once_to_the_readers_tabs(
    ada, grace, room, pushes, django_capture_on_commit_callbacks
):
    messages = say(room, grace, 3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        moved_to = unread_actions.room_mark_read(user=ada, room=room, up_to=messages[1].id)
    assert moved_to == messages[1].id
    assert cursor(ada, room) == messages[1].id
    assert pushes.sent == []  # not before the cursor is durable

    for callback in callbacks:
        callback()
    # One push, to ada's own tabs with the room list; none to the room or its other members.
    [(group, html)] = pushes.sent
    assert group == f"user.{ada.id}.reader"
    assert f'id="unread-{room.id}"' in html
    assert f'data-read="{messages[1].id}"' in html
    assert f'data-seen="{messages[2].id}"' in html
    assert 'data-count="1"' in html
    assert 'hx-swap-oob="true"' in html


def test_the_cursor_never_moves_back(ada, grace, room, pushes, django_capture_on_commit_callbacks):
    messages = say(room, grace, 3)
    with django_capture_on_commit_callbacks(execute=True):
        unread_actions.room_mark_read(user=ada, room=room, up_to=messages[2].id)
    pushes.sent.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert (
            unread_actions.room_mark_read(user=ada, room=room, up_to=messages[0].id)
            == messages[2].id
        )
        assert (
            unread_actions.room_mark_read(user=ada, room=room, up_to=messages[2].id)
            == messages[2].id
        )
    assert cursor(ada, room) == messages[2].id
    assert pushes.sent == []  # nothing changed, nothing to tell


def test_mark_read_stops_at_the_rooms_own_messages(
    ada, grace, room, other_room, pushes, django_capture_on_commit_callbacks
):
    mine = say(room, grace, 2)
    elsewhere = say(other_room, grace, 2)
    # Reading "up to" a later id from another room (or one not yet written) reads this room
    # to its newest message at or before it, no further.
    with django_capture_on_commit_callbacks(execute=True):
        assert unread_actions.room_mark_read(user=ada, room=room, up_to=elsewhere[-1].id + 50) == (
            mine[-1].id
        )
    assert cursor(ada, room) == mine[-1].id
    assert not ReadCursor.objects.filter(room=other_room).exists()


def test_mark_read_in_an_empty_room_does_nothing(ada, room, pushes):
    assert unread_actions.room_mark_read(user=ada, room=room, up_to=10) is None
    assert not ReadCursor.objects.exists()
    assert pushes.sent == []


def test_a_message_in_a_big_room_is_two_pushes_whatever_the_membership(
    ada, room, make_user, pushes, django_capture_on_commit_callbacks
):
    for i in range(30):
        member = make_user(f"member{i}")
        say(room, member, 1)
        unread_actions.room_mark_read(user=member, room=room, up_to=10**9)
    pushes.sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        message_actions.message_post(room=room, author=ada, body="to everyone", client_id=None)
    assert [group for group, _ in pushes.sent] == [
        f"chat.room.{room.id}",
        f"chat.activity.{room.id}",
    ]


def test_a_message_with_a_link_queues_its_preview_on_commit(
    ada, room, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = message_actions.message_post(
            room=room,
            author=ada,
            body="see https://example.com/x and http://b.example",
            client_id=None,
        )
    preview = LinkPreview.objects.get(message=message)
    assert preview.url == "https://example.com/x"
    assert not DBTaskResult.objects.exists()  # nothing queued before the commit

    for callback in callbacks:
        callback()
    [task] = DBTaskResult.objects.all()
    assert task.task_path == "chat.previews.tasks.fetch_link_preview"
    assert task.args_kwargs["kwargs"] == {"preview_id": preview.pk}
    # The message itself, once, to the room (and its activity to room lists); the card later.
    [html] = pushes.to(f"chat.room.{room.id}")
    assert f'id="preview-{message.id}"' in html
    assert 'data-status="pending"' in html


def test_an_export_request_queues_one_task_and_pushes_nothing(
    ada, room, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        export = export_actions.export_request(room=room, user=ada, export_format="json")
    assert export.status == TranscriptExport.Status.PENDING
    assert DBTaskResult.objects.get().args_kwargs["kwargs"] == {"export_id": export.pk}
    assert pushes.sent == []


def test_export_progress_pushes_only_changes_and_only_to_its_owner(
    ada, room, pushes, django_capture_on_commit_callbacks
):
    export = export_actions.export_request(room=room, user=ada, export_format="csv")
    with django_capture_on_commit_callbacks(execute=True):
        export_results.export_progress(export=export, progress=10)
        export_results.export_progress(export=export, progress=10)
        export_results.export_progress(export=export, progress=55)
    assert [group for group, _ in pushes.sent] == [f"user.{ada.pk}"] * 2
    assert 'value="10"' in pushes.sent[0][1]
    assert 'value="55"' in pushes.sent[1][1]
    export.refresh_from_db()
    assert (export.status, export.progress) == (TranscriptExport.Status.RUNNING, 55)


def test_a_direct_message_reaches_both_members_room_lists_and_notifies_once(
    ada, grace, pushes, django_capture_on_commit_callbacks
):
    """The first message of a conversation: its signal goes to both members' own room
    lists (which joined nothing for it), and the recipient gets one notification (a toast
    and the bell), not one per message while it is unread."""
    dm = room_actions.direct_open(user=ada, other=grace)
    pushes.sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first = message_actions.message_post(room=dm, author=ada, body="hi @grace", client_id=None)
    assert pushes.groups() == [
        f"chat.room.{dm.id}",
        f"user.{ada.pk}.reader",
        f"user.{grace.pk}.reader",
        f"user.{grace.pk}",
        f"user.{grace.pk}.inbox",
    ]
    assert f'data-newest="{first.id}"' in pushes.to(f"user.{grace.pk}.reader")[0]
    [notification] = Notification.objects.all()
    assert (notification.recipient, notification.verb) == (grace, Notification.Verb.DIRECT)
    assert notification.target_url == f"/rooms/{dm.slug}/#message-{first.id}"
    [bell_and_toast] = pushes.to(f"user.{grace.pk}")
    assert 'data-verb="direct"' in bell_and_toast
    assert "wrote to you" in bell_and_toast

    with django_capture_on_commit_callbacks(execute=True):
        message_actions.message_post(room=dm, author=ada, body="still there?", client_id=None)
    assert Notification.objects.count() == 1  # still unread: no second toast

    # Reading the conversation is done with the notification; the next message notifies.
    with django_capture_on_commit_callbacks(execute=True):
        unread_actions.room_mark_read(user=grace, room=dm, up_to=first.id)
    assert Notification.objects.get().read_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        message_actions.message_post(room=dm, author=ada, body="again", client_id=None)
    assert Notification.objects.filter(read_at__isnull=True).count() == 1
