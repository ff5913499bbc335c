"""messages_post: a batch of chat.send posts saved in one transaction (group commit)."""

import uuid

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from chat.actions import messages as message_actions
from chat.actions import rooms as room_actions
from chat.actions.messages import Post, messages_post
from chat.logic import NOT_A_MEMBER, Forbidden
from chat.models import Message
from notifications.models import Notification


def posts_of(*posts: tuple[object, object, str, uuid.UUID | None]) -> list[Post]:
    return [Post(room=r, author=a, body=b, client_id=c) for r, a, b, c in posts]  # type: ignore[arg-type]


def room_pushes(pushes, room):
    return pushes.to(f"chat.room.{room.id}")


def test_a_batch_is_saved_in_order_and_pushed_once_per_message_on_commit(
    ada, grace, room, pushes, django_capture_on_commit_callbacks
):
    posts = posts_of((room, ada, "one", None), (room, grace, "two", None), (room, ada, "3", None))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answers = messages_post(posts=posts)
    saved = list(Message.objects.order_by("id"))
    assert answers == saved
    assert [m.body for m in saved] == ["one", "two", "3"]
    assert pushes.sent == []  # nothing leaves before the data is durable

    for callback in callbacks:
        callback()
    pushed = room_pushes(pushes, room)
    assert len(pushed) == 3
    assert [f'id="message-{m.id}"' in html for m, html in zip(saved, pushed, strict=True)] == [
        True
    ] * 3
    assert len(pushes.to(f"chat.activity.{room.id}")) == 3


def test_a_refused_post_in_the_middle_gets_its_error_and_the_others_are_saved(
    ada, grace, linus, room, secret, pushes, django_capture_on_commit_callbacks
):
    posts = posts_of(
        (room, ada, "before", None), (secret, linus, "no", None), (room, ada, "after", None)
    )
    with django_capture_on_commit_callbacks(execute=True):
        before, refused, after = messages_post(posts=posts)
    assert isinstance(before, Message)
    assert isinstance(after, Message)
    assert isinstance(refused, Forbidden)
    assert str(refused) == NOT_A_MEMBER
    assert list(Message.objects.order_by("id").values_list("body", flat=True)) == [
        "before",
        "after",
    ]
    assert (before.body, after.body) == ("before", "after")
    assert len(room_pushes(pushes, room)) == 2
    assert room_pushes(pushes, secret) == []


def test_a_client_id_saved_before_gets_its_first_message_and_the_others_are_saved(
    ada, grace, room, pushes, django_capture_on_commit_callbacks
):
    client_id = uuid.uuid4()
    first = message_actions.message_post(room=room, author=ada, body="first", client_id=client_id)
    posts = posts_of(
        (room, grace, "new one", uuid.uuid4()),
        (room, ada, "first, resent", client_id),
        (room, grace, "new two", None),
    )
    with django_capture_on_commit_callbacks(execute=True):
        one, again, two = messages_post(posts=posts)
    assert again == first
    assert isinstance(one, Message)
    assert isinstance(two, Message)
    assert list(Message.objects.order_by("id").values_list("body", flat=True)) == [
        "first",
        "new one",
        "new two",
    ]
    assert (one.body, two.body) == ("new one", "new two")
    # The resent one is pushed again, in case its first push never left; pages skip it by id.
    pushed = room_pushes(pushes, room)
    assert len(pushed) == 3
    assert [sum(f'id="message-{m.id}"' in html for html in pushed) for m in (one, first, two)] == [
        1,
        1,
        1,
    ]


def test_a_resend_in_a_batch_costs_one_lookup_not_a_save_one_by_one(ada, grace, room):
    """After a reconnect pages resend what was not acknowledged, among everyone's new sends."""
    client_id = uuid.uuid4()
    first = message_actions.message_post(room=room, author=ada, body="first", client_id=client_id)
    posts = posts_of(
        *[(room, grace, f"new {n}", uuid.uuid4()) for n in range(5)],
        (room, ada, "first, resent", client_id),
    )
    with CaptureQueriesContext(connection) as queries:
        answers = messages_post(posts=posts)
    assert answers[-1] == first
    assert Message.objects.count() == 6
    # The insert that found the resend, the lookup, and the insert of the five new ones.
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    assert statements.count("INSERT") == 2
    assert statements.count("SELECT") == 1


def test_a_resend_the_lookup_misses_is_saved_one_by_one_and_answered(ada, grace, room, monkeypatch):
    """Another process saving the same client id between the failed insert and the lookup:
    the second insert fails too, and the posts are saved one by one, each answered."""
    client_id = uuid.uuid4()
    first = message_actions.message_post(room=room, author=ada, body="first", client_id=client_id)
    monkeypatch.setattr(message_actions, "_saved_before", lambda posts: {})
    posts = posts_of((room, grace, "new", uuid.uuid4()), (room, ada, "first, resent", client_id))
    new, again = messages_post(posts=posts)
    assert again == first
    assert isinstance(new, Message)
    assert new.body == "new"
    assert Message.objects.count() == 2


def test_a_client_id_twice_in_one_batch_is_saved_and_pushed_once(
    ada, room, pushes, django_capture_on_commit_callbacks
):
    client_id = uuid.uuid4()
    posts = posts_of((room, ada, "once", client_id), (room, ada, "once", client_id))
    with django_capture_on_commit_callbacks(execute=True):
        first, second = messages_post(posts=posts)
    assert first == second == Message.objects.get()
    assert len(room_pushes(pushes, room)) == 1


def test_mentions_in_a_batch_notify_on_commit(
    ada, grace, room, pushes, django_capture_on_commit_callbacks
):
    posts = posts_of((room, ada, "hi @grace", None), (room, grace, "hi all", None))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        mentioning, _ = messages_post(posts=posts)
    assert isinstance(mentioning, Message)
    [notification] = Notification.objects.all()
    assert (notification.recipient, notification.verb) == (grace, Notification.Verb.MENTION)
    assert notification.target_url == f"/rooms/general/#message-{mentioning.id}"
    assert pushes.sent == []
    for callback in callbacks:
        callback()
    assert len(pushes.to(f"user.{grace.id}")) == 1


def test_a_database_outage_fails_the_whole_batch_and_saves_nothing(
    ada, grace, room, pushes, monkeypatch, django_capture_on_commit_callbacks
):
    inserts = []

    def unreachable(rows, **options):
        inserts.append([row.body for row in rows])
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(Message.objects, "bulk_create", unreachable)
    posts = posts_of((room, ada, "one", None), (room, grace, "two", None), (room, ada, "3", None))
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(OperationalError):
        messages_post(posts=posts)
    assert inserts == [["one", "two", "3"]]  # not tried again one by one
    assert Message.objects.count() == 0
    assert pushes.sent == []


@pytest.mark.parametrize("count", [1, 5])
def test_a_batch_of_plain_messages_is_one_insert_however_many(
    ada, room, count, django_assert_num_queries
):
    posts = posts_of(*[(room, ada, f"plain {n}", None) for n in range(count)])
    # In the test's transaction: a savepoint, the insert, its release.
    with django_assert_num_queries(3):
        messages_post(posts=posts)
    assert Message.objects.count() == count


def test_a_direct_conversation_notifies_once_per_batch_as_one_message_at_a_time_does(
    ada, grace, django_capture_on_commit_callbacks
):
    """Held sends resent together after a reconnect land in one batch: the recipient still
    gets one notification of the conversation, not one per message."""
    dm = room_actions.direct_open(user=ada, other=grace)
    posts = posts_of((dm, ada, "one", None), (dm, ada, "two", None), (dm, grace, "back", None))
    with django_capture_on_commit_callbacks(execute=True):
        messages_post(posts=posts)
    notified = sorted(
        (n.recipient.username, n.verb) for n in Notification.objects.select_related("recipient")
    )
    assert notified == [("ada", Notification.Verb.DIRECT), ("grace", Notification.Verb.DIRECT)]
