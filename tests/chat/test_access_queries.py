"""Who may read what: every read decision goes through chat.queries.rooms.rooms_readable_by."""

import pytest

from accounts.models import Block
from chat.models import Membership, Message, MessageChange, ReadCursor, Room
from chat.queries import messages as message_queries
from chat.queries import rooms as room_queries
from chat.queries import search as search_queries
from chat.queries import unread as unread_queries


@pytest.fixture
def secret(db, ada):
    room = Room.objects.create(name="Secret", slug="secret", kind=Room.Kind.PRIVATE, created_by=ada)
    Membership.objects.create(room=room, user=ada)
    return room


@pytest.fixture
def direct(db, ada, grace):
    room = Room.objects.create(name="dm-x", slug="dm-x", kind=Room.Kind.DIRECT)
    Membership.objects.bulk_create(
        [Membership(room=room, user=ada), Membership(room=room, user=grace)]
    )
    return room


def test_readable_rooms_are_public_ones_and_ones_the_user_belongs_to(
    ada, grace, linus, room, secret, direct
):
    assert set(room_queries.rooms_readable_by(user=ada)) == {room, secret, direct}
    assert set(room_queries.rooms_readable_by(user=grace)) == {room, direct}
    assert set(room_queries.rooms_readable_by(user=linus)) == {room}


def test_readable_rooms_is_a_queryset_that_composes(ada, room, secret):
    # Other features filter it further (search, unread counts) in one query.
    assert list(room_queries.rooms_readable_by(user=ada).filter(slug="secret")) == [secret]
    assert room_queries.rooms_readable_by(user=ada).count() == 2


def test_a_private_room_looks_missing_to_a_non_member(ada, grace, secret):
    assert room_queries.room_readable(user=ada, slug="secret") == secret
    assert room_queries.room_readable(user=grace, slug="secret") is None
    assert room_queries.room_readable(user=grace, slug="no-such-room") is None
    assert room_queries.room_is_readable(user=grace, room_id=secret.id) is False


def test_readers_among(ada, grace, linus, room, secret):
    assert room_queries.readers_among(room=room, users=[grace, linus]) == [grace, linus]
    assert room_queries.readers_among(room=secret, users=[ada, grace]) == [ada]


def test_sidebar_lists_only_readable_rooms(ada, grace, room, secret, direct):
    assert room_queries.sidebar_rooms(user=grace) == [room, direct]  # by name
    assert secret in room_queries.sidebar_rooms(user=ada)


def test_a_message_in_an_unreadable_room_is_not_found(ada, grace, secret, room):
    hidden = Message.objects.create(room=secret, author=ada, body="psst")
    shown = Message.objects.create(room=room, author=ada, body="hi")
    assert message_queries.message_readable(user=grace, message_id=hidden.id) is None
    assert message_queries.message_readable(user=ada, message_id=hidden.id) == hidden
    assert message_queries.message_readable(user=grace, message_id=shown.id) == shown


def test_history_leaves_out_hidden_authors(ada, grace, room):
    kept = Message.objects.create(room=room, author=ada, body="kept")
    Message.objects.create(room=room, author=grace, body="hidden")
    Block.objects.create(blocker=ada, blocked=grace)
    blocked = [grace.pk]
    assert message_queries.room_messages_before(
        room_id=room.id, before_id=None, limit=10, hidden_author_ids=blocked
    ) == ([kept], False)
    assert message_queries.room_messages_after(
        room_id=room.id, after_id=0, limit=10, hidden_author_ids=blocked
    ) == ([kept], False)


def test_changes_after_a_cursor_in_order(ada, room):
    first = Message.objects.create(room=room, author=ada, body="a")
    second = Message.objects.create(room=room, author=ada, body="b")
    changes = [
        MessageChange.objects.create(room=room, message=message, kind="edited")
        for message in (first, second, first)
    ]
    assert message_queries.room_change_cursor(room_id=room.id) == changes[-1].id
    rows, more = message_queries.room_changes_after(
        room_id=room.id, after_id=changes[0].id, limit=1
    )
    assert rows == [(changes[1].id, second.id)]
    assert more is True
    assert message_queries.messages_by_id(ids=[second.id, first.id]) == [second, first]


def test_invitations_are_only_found_by_their_invitee(ada, grace, linus, secret):
    from chat.models import Invitation

    invitation = Invitation.objects.create(room=secret, invitee=grace, invited_by=ada)
    assert room_queries.invitation_for(user=grace, invitation_id=invitation.id) == invitation
    assert room_queries.invitation_for(user=linus, invitation_id=invitation.id) is None
    assert room_queries.invitations_for(user=grace) == [invitation]


def test_search_never_finds_a_private_room_for_a_non_member(
    ada, grace, linus, secret, direct, room
):
    Message.objects.create(room=secret, author=ada, body="tea in the secret room")
    Message.objects.create(room=direct, author=ada, body="tea between ada and grace")
    public = Message.objects.create(room=room, author=ada, body="tea for everyone")

    def found(user):
        hits, _ = search_queries.message_search(user=user, query="tea", limit=10)
        return {hit.message.room.slug for hit in hits}

    assert found(ada) == {"secret", "dm-x", "general"}
    assert found(grace) == {"dm-x", "general"}
    hits, _ = search_queries.message_search(user=linus, query="tea", limit=10)
    assert [hit.message for hit in hits] == [public]


def test_search_leaves_out_people_the_searcher_blocked_and_deleted_messages(ada, grace, room):
    from django.utils import timezone

    kept = Message.objects.create(room=room, author=grace, body="tea from grace")
    mine = Message.objects.create(room=room, author=ada, body="tea from ada")
    Message.objects.create(room=room, author=ada, body="tea", deleted_at=timezone.now())
    Block.objects.create(blocker=ada, blocked=grace)

    hits, _ = search_queries.message_search(user=ada, query="tea", limit=10)
    assert [hit.message for hit in hits] == [mine]
    # Blocking is one way: grace still finds ada's message, and her own.
    hits, _ = search_queries.message_search(user=grace, query="tea", limit=10)
    assert {hit.message for hit in hits} == {kept, mine}


def test_unread_counts_only_readable_rooms_and_not_blocked_authors(ada, grace, linus, room, secret):
    for user in (grace, linus):
        ReadCursor.objects.create(user=user, room=room, last_read_id=0)
        # A cursor left from membership gives no count once the room is not readable.
        ReadCursor.objects.create(user=user, room=secret, last_read_id=0)
    secret_message = Message.objects.create(room=secret, author=ada, body="members only")
    Message.objects.create(room=room, author=ada, body="from ada")
    from_linus = Message.objects.create(room=room, author=linus, body="from linus")
    Block.objects.create(blocker=grace, blocked=ada)

    assert set(unread_queries.unread_states_for(user=grace)) == {room.id}
    assert unread_queries.unread_states_for(user=grace)[room.id].count == 1  # linus's only
    assert unread_queries.unread_states_for(user=linus)[room.id].count == 1  # ada's
    first_unread = unread_queries.room_first_unread_id(
        user_id=grace.pk, room_id=room.id, read_id=secret_message.id
    )
    assert first_unread == from_linus.id


def test_history_around_and_between_leave_out_hidden_authors(ada, grace, room):
    mine = [Message.objects.create(room=room, author=ada, body=f"a{i}") for i in range(3)]
    theirs = Message.objects.create(room=room, author=grace, body="g")
    last = Message.objects.create(room=room, author=ada, body="a3")
    blocked = [grace.pk]
    page, has_older, has_newer = message_queries.room_messages_around(
        room_id=room.id, message_id=mine[1].id, limit=10, hidden_author_ids=blocked
    )
    assert page == [*mine, last]
    assert (has_older, has_newer) == (False, False)
    between, more = message_queries.room_messages_between(
        room_id=room.id,
        after_id=mine[2].id,
        until_id=last.id,
        limit=10,
        hidden_author_ids=blocked,
    )
    assert theirs not in between
    assert (between, more) == ([last], False)
