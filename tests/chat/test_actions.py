import uuid

import pytest

from chat import actions
from chat.logic import Invalid
from chat.models import Message, Room


def test_message_post_saves_then_pushes_once_on_commit(
    ada, room, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = actions.message_post(room=room, author=ada, body="hello", client_id=None)
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


def test_message_post_escapes_and_links(ada, room, pushes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        actions.message_post(
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
        first = actions.message_post(room=room, author=ada, body="once", client_id=client_id)
        again = actions.message_post(room=room, author=ada, body="once", client_id=client_id)
    assert first == again
    assert Message.objects.count() == 1
    assert len(pushes.sent) == 2  # the room and the room lists, once


def test_same_client_id_from_two_authors_is_two_messages(ada, grace, room, pushes):
    client_id = uuid.uuid4()
    actions.message_post(room=room, author=ada, body="a", client_id=client_id)
    actions.message_post(room=room, author=grace, body="g", client_id=client_id)
    assert Message.objects.count() == 2


def test_nothing_is_pushed_when_the_transaction_rolls_back(ada, room, pushes):
    from django.db import transaction

    def post_then_fail() -> None:
        with transaction.atomic():
            actions.message_post(room=room, author=ada, body="lost", client_id=None)
            raise RuntimeError("the surrounding work failed")

    with pytest.raises(RuntimeError):
        post_then_fail()
    assert Message.objects.count() == 0
    assert pushes.sent == []


def test_room_create_pushes_sidebar_link_once(ada, pushes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = actions.room_create(name="Design", slug="design", created_by=ada)
    assert Room.objects.get() == created
    [(group, html)] = pushes.sent
    assert group == "chat.lobby"
    assert f'id="room-link-{created.id}"' in html
    assert 'hx-swap-oob="beforeend:#room-list"' in html


@pytest.mark.parametrize(("name", "slug"), [("general", "general-2"), ("Other", "general")])
def test_room_create_refuses_taken_names(ada, room, pushes, name, slug):
    with pytest.raises(Invalid, match="already exists"):
        actions.room_create(name=name, slug=slug, created_by=ada)
    assert Room.objects.count() == 1
    assert pushes.sent == []


def test_a_failing_push_does_not_lose_the_message(
    ada, room, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broken_push(group: str, html: str) -> None:
        raise ConnectionError("channel layer is down")

    monkeypatch.setattr("chat.events.push_html", broken_push)
    with django_capture_on_commit_callbacks(execute=True):
        message = actions.message_post(room=room, author=ada, body="kept", client_id=None)
    assert Message.objects.get() == message
    assert "channel layer is down" in caplog.text
