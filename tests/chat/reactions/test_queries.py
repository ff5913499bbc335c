import pytest

from accounts.models import Block
from chat.actions import rooms as room_actions
from chat.models import Membership, Message
from chat.queries.messages import (
    message_reactable,
    messages_by_id,
    room_messages_after,
    room_messages_before,
)
from chat.reactions.models import Reaction

pytestmark = pytest.mark.django_db


def test_a_message_of_a_public_room_is_reactable_by_anyone(ada, grace, room):
    message = Message.objects.create(room=room, author=ada, body="hi")
    assert message_reactable(user=grace, room_id=room.id, message_id=message.id) == message


def test_a_private_room_is_its_members_alone(ada, grace, linus, secret):
    message = Message.objects.create(room=secret, author=ada, body="hi")
    assert message_reactable(user=grace, room_id=secret.id, message_id=message.id) == message
    assert message_reactable(user=linus, room_id=secret.id, message_id=message.id) is None
    # A member who leaves can no longer react.
    Membership.objects.filter(room=secret, user=grace).delete()
    assert message_reactable(user=grace, room_id=secret.id, message_id=message.id) is None


def test_a_message_by_someone_the_viewer_blocked_is_not_theirs_to_react_to(ada, grace, room):
    message = Message.objects.create(room=room, author=ada, body="hi")
    Block.objects.create(blocker=grace, blocked=ada)
    assert message_reactable(user=grace, room_id=room.id, message_id=message.id) is None
    # One way only: the blocked person still sees, and may react to, the blocker's messages.
    theirs = Message.objects.create(room=room, author=grace, body="hello")
    assert message_reactable(user=ada, room_id=room.id, message_id=theirs.id) == theirs


def test_deleted_missing_and_elsewhere_are_all_none(ada, grace, room, other_room):
    message = Message.objects.create(room=room, author=ada, body="hi")
    assert message_reactable(user=grace, room_id=other_room.id, message_id=message.id) is None
    assert message_reactable(user=grace, room_id=room.id, message_id=message.id + 1) is None
    Message.objects.filter(id=message.id).update(deleted_at=message.created_at)
    assert message_reactable(user=grace, room_id=room.id, message_id=message.id) is None


@pytest.mark.parametrize("read", ["before", "after", "by_id"])
def test_messages_are_read_with_their_reactions_and_who_reacted_in_two_queries(
    read, ada, grace, linus, room, django_assert_num_queries
):
    messages = [Message.objects.create(room=room, author=ada, body=str(i)) for i in range(3)]
    Reaction.objects.create(message=messages[0], user=grace, emoji="👍")
    Reaction.objects.create(message=messages[2], user=linus, emoji="😢")
    Reaction.objects.create(message=messages[2], user=grace, emoji="😢")

    # One for the messages (with author, preview, attachment), one for every reaction.
    with django_assert_num_queries(2):
        if read == "before":
            found, _ = room_messages_before(room_id=room.id, before_id=None, limit=10)
        elif read == "after":
            found, _ = room_messages_after(room_id=room.id, after_id=0, limit=10)
        else:
            found = messages_by_id(ids=[m.id for m in messages])
        names = [[r.user.username for r in message.reactions.all()] for message in found]
    assert names == [["grace"], [], ["linus", "grace"]]


def test_in_a_direct_conversation_a_block_either_way_ends_reacting_as_it_ends_posting(ada, grace):
    dm = room_actions.direct_open(user=ada, other=grace)
    hers = Message.objects.create(room=dm, author=ada, body="hi")
    mine = Message.objects.create(room=dm, author=grace, body="hello")
    assert message_reactable(user=grace, room_id=dm.id, message_id=hers.id) == hers

    Block.objects.create(blocker=ada, blocked=grace)
    for user in (grace, ada):  # the blocked person, and the one who blocked
        for message in (hers, mine):
            assert message_reactable(user=user, room_id=dm.id, message_id=message.id) is None
