import pytest

from accounts.models import Block
from chat.models import Message, MessageChange, Room
from chat.reactions import actions
from chat.reactions.actions import NO_SUCH_MESSAGE, NOT_AN_EMOJI, clean_emoji
from chat.reactions.models import Reaction
from realtime.validation import Invalid


@pytest.mark.parametrize("value", Reaction.Emoji.values)
def test_clean_emoji_takes_each_of_the_set(value):
    assert clean_emoji(value) == value


@pytest.mark.parametrize(
    "value",
    [None, "", "x", "👍👍", "❤", " 👍", "<b>", 1, ["👍"], {"emoji": "👍"}, True, "🐍"],
)
def test_clean_emoji_refuses_anything_else(value):
    with pytest.raises(Invalid, match=NOT_AN_EMOJI):
        clean_emoji(value)


@pytest.fixture
def message(db, ada, room):
    return Message.objects.create(room=room, author=ada, body="hello")


def toggle(user, message, emoji="👍"):
    return actions.reaction_toggle(
        user=user, room_id=message.room_id, message_id=message.id, emoji=emoji
    )


def test_a_toggle_saves_then_pushes_once_on_commit(
    grace, message, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert toggle(grace, message) is True
    assert list(Reaction.objects.values_list("user_id", "emoji")) == [(grace.id, "👍")]
    assert pushes.sent == []  # nothing leaves before the data is durable

    for callback in callbacks:
        callback()
    [change] = MessageChange.objects.all()
    assert change.kind == MessageChange.Kind.REACTED
    assert pushes.groups() == [f"chat.room.{message.room_id}"]
    [html] = pushes.sent
    html = html[1]
    assert f'<div id="reactions-{message.id}" class="reactions" hx-swap-oob="true"' in html
    assert f'<span class="reactor" data-user="{grace.id}" dir="auto">grace</span>' in html
    assert f'<span id="change-cursor" data-after="{change.id}" hidden hx-swap-oob="true">' in html


def test_toggling_twice_removes_the_reaction_and_pushes_each_time(
    grace, message, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert toggle(grace, message) is True
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert toggle(grace, message) is False
    assert len(callbacks) == 1

    assert Reaction.objects.count() == 0
    assert MessageChange.objects.count() == 2
    assert len(pushes.sent) == 2
    assert "reactor" not in pushes.sent[1][1]


def test_people_and_emoji_are_separate_reactions(ada, grace, message, pushes):
    toggle(grace, message, "👍")
    toggle(ada, message, "👍")
    toggle(grace, message, "🎉")

    assert set(Reaction.objects.values_list("user__username", "emoji")) == {
        ("ada", "👍"),
        ("grace", "👍"),
        ("grace", "🎉"),
    }


@pytest.mark.parametrize("emoji", ["🐍", "", None, 7])
def test_a_bad_emoji_saves_and_pushes_nothing(
    grace, message, pushes, django_capture_on_commit_callbacks, emoji
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Invalid, match=NOT_AN_EMOJI),
    ):
        toggle(grace, message, emoji)
    assert callbacks == []
    assert Reaction.objects.count() == 0
    assert MessageChange.objects.count() == 0


def test_only_members_of_a_private_room_may_react(ada, grace, linus, secret, pushes):
    message = Message.objects.create(room=secret, author=ada, body="members only")
    with pytest.raises(Invalid, match=NO_SUCH_MESSAGE):
        toggle(linus, message)
    assert Reaction.objects.count() == 0

    assert toggle(grace, message) is True


def test_a_message_of_another_room_or_deleted_or_by_someone_blocked_is_refused(
    ada, grace, message, other_room, pushes
):
    # The socket's room is the one checked: a message id from elsewhere is missing here.
    with pytest.raises(Invalid, match=NO_SUCH_MESSAGE):
        actions.reaction_toggle(
            user=grace, room_id=other_room.id, message_id=message.id, emoji="👍"
        )
    Block.objects.create(blocker=grace, blocked=ada)
    with pytest.raises(Invalid, match=NO_SUCH_MESSAGE):
        toggle(grace, message)
    Block.objects.all().delete()
    Message.objects.filter(id=message.id).update(deleted_at=message.created_at)
    with pytest.raises(Invalid, match=NO_SUCH_MESSAGE):
        toggle(grace, message)
    assert Reaction.objects.count() == 0
    assert Room.objects.count() == 2
