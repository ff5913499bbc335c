from chat.models import Message, ReadCursor, Room
from chat.queries import messages as message_queries
from chat.queries import rooms as room_queries
from chat.queries import search as search_queries
from chat.queries import unread as unread_queries


def post(room, author, count):
    return [Message.objects.create(room=room, author=author, body=f"m{i}") for i in range(count)]


def test_latest_page_is_oldest_first_and_knows_about_older(ada, room):
    messages = post(room, ada, 5)
    page, has_older = message_queries.room_messages_before(room_id=room.id, before_id=None, limit=3)
    assert page == messages[2:]
    assert has_older is True


def test_paging_back_reaches_the_start(ada, room):
    messages = post(room, ada, 5)
    page, has_older = message_queries.room_messages_before(
        room_id=room.id, before_id=messages[2].id, limit=3
    )
    assert page == messages[:2]
    assert has_older is False


def test_pages_stay_inside_their_room(ada, room, other_room):
    post(other_room, ada, 2)
    mine = post(room, ada, 1)
    assert message_queries.room_messages_before(room_id=room.id, before_id=None, limit=10) == (
        mine,
        False,
    )


def test_room_get_and_name_taken(room):
    assert room_queries.room_get(slug="general") == room
    assert room_queries.room_get(slug="missing") is None
    assert room_queries.room_name_taken(name="GENERAL", slug="x") is True
    assert room_queries.room_name_taken(name="New", slug="general") is True
    assert room_queries.room_name_taken(name="New", slug="new") is False


def read_up_to(user, room, message_id):
    ReadCursor.objects.update_or_create(user=user, room=room, defaults={"last_read_id": message_id})


def test_unread_counts_what_others_wrote_past_the_cursor(ada, grace, room, other_room):
    theirs = post(room, grace, 3)
    post(room, ada, 2)  # one's own messages are never unread
    read_up_to(ada, room, theirs[0].id)

    [general] = unread_queries.unread_states_for(user=ada).values()

    assert general == unread_queries.UnreadState(
        room_id=room.id,
        read_id=theirs[0].id,
        newest_id=Message.objects.filter(room=room).latest("id").id,
        count=2,
    )


def test_only_rooms_one_has_opened_have_a_count(ada, grace, room, other_room):
    post(other_room, grace, 2)
    read_up_to(ada, room, 0)
    assert set(unread_queries.unread_states_for(user=ada)) == {room.id}
    assert set(unread_queries.rooms_followed_by(user=ada)) == {room}


def test_unread_is_zero_when_read_to_the_end_or_empty(ada, grace, room, other_room):
    last = post(room, grace, 2)[-1]
    read_up_to(ada, room, last.id)
    read_up_to(ada, other_room, 0)
    states = unread_queries.unread_states_for(user=ada)
    assert states[room.id].count == 0
    assert states[other_room.id] == unread_queries.UnreadState(
        room_id=other_room.id, read_id=0, newest_id=0, count=0
    )


def test_unread_states_are_per_reader(ada, grace, room):
    mine = post(room, ada, 2)
    read_up_to(grace, room, mine[0].id)
    read_up_to(ada, room, 0)
    assert unread_queries.unread_states_for(user=grace)[room.id].count == 1
    assert unread_queries.unread_states_for(user=ada)[room.id].count == 0


def test_unread_states_cover_only_readable_rooms(ada, grace, room, other_room, monkeypatch):
    post(other_room, grace, 1)
    read_up_to(ada, room, 0)
    read_up_to(ada, other_room, 0)
    only_general = Room.objects.filter(pk=room.pk)
    monkeypatch.setattr(room_queries, "rooms_readable_by", lambda *, user: only_general)
    assert set(unread_queries.unread_states_for(user=ada)) == {room.id}
    assert unread_queries.unread_states_for(user=ada, room_ids=[other_room.id]) == {}


def test_unread_states_for_some_rooms_only(ada, room, other_room):
    read_up_to(ada, room, 0)
    read_up_to(ada, other_room, 0)
    assert set(unread_queries.unread_states_for(user=ada, room_ids=[other_room.id])) == {
        other_room.id
    }


def test_unread_states_take_one_query(ada, grace, room, other_room, django_assert_num_queries):
    post(room, grace, 3)
    post(other_room, grace, 3)
    read_up_to(ada, room, 0)
    read_up_to(ada, other_room, 0)
    with django_assert_num_queries(1):
        unread_queries.unread_states_for(user=ada)


def test_a_room_never_opened_has_no_first_unread(ada, grace, room):
    post(room, grace, 2)
    assert unread_queries.room_first_unread_id(user_id=ada.id, room_id=room.id, read_id=0) is None


def test_first_unread_skips_ones_own(ada, grace, room):
    read = post(room, grace, 1)[0]
    post(room, ada, 1)
    theirs = post(room, grace, 2)
    assert unread_queries.room_first_unread_id(
        user_id=ada.id, room_id=room.id, read_id=read.id
    ) == (theirs[0].id)
    assert (
        unread_queries.room_first_unread_id(user_id=ada.id, room_id=room.id, read_id=theirs[-1].id)
        is None
    )


def test_read_cursor_defaults_to_nothing_read(ada, room):
    assert unread_queries.read_cursor_for(user_id=ada.id, room_id=room.id) == 0
    read_up_to(ada, room, 12)
    assert unread_queries.read_cursor_for(user_id=ada.id, room_id=room.id) == 12


def test_messages_around_an_anchor(ada, room, other_room):
    messages = post(room, ada, 9)
    post(other_room, ada, 3)
    page, has_older, has_newer = message_queries.room_messages_around(
        room_id=room.id, message_id=messages[4].id, limit=4
    )
    assert page == messages[2:6]
    assert (has_older, has_newer) == (True, True)

    page, has_older, has_newer = message_queries.room_messages_around(
        room_id=room.id, message_id=messages[0].id, limit=4
    )
    assert page == messages[0:2]
    assert (has_older, has_newer) == (False, True)

    page, has_older, has_newer = message_queries.room_messages_around(
        room_id=room.id, message_id=messages[-1].id, limit=4
    )
    assert page == messages[6:]
    assert (has_older, has_newer) == (True, False)


def test_the_messages_missing_among_those_shown_are_the_holes_between_them(ada, room):
    messages = post(room, ada, 6)
    shown = [messages[0].id, messages[2].id, messages[5].id]
    missing = message_queries.room_messages_missing_among(
        room_id=room.id, shown_ids=shown, limit=10
    )
    assert missing == [messages[1], messages[3], messages[4]]
    limited = message_queries.room_messages_missing_among(room_id=room.id, shown_ids=shown, limit=2)
    assert limited == [messages[1], messages[3]]
    # One shown message (or none) has no holes; what is newer is the cursor's to find.
    assert (
        message_queries.room_messages_missing_among(room_id=room.id, shown_ids=shown[:1], limit=10)
        == []
    )


def test_the_messages_missing_among_those_shown_leave_out_blocked_authors(ada, grace, room):
    messages = post(room, ada, 3)
    missing = message_queries.room_messages_missing_among(
        room_id=room.id,
        shown_ids=[messages[0].id, messages[2].id],
        limit=10,
        hidden_author_ids=[ada.id],
    )
    assert missing == []


def test_messages_between_fill_a_gap_a_page_at_a_time(ada, room):
    messages = post(room, ada, 6)
    page, more = message_queries.room_messages_between(
        room_id=room.id, after_id=messages[0].id, until_id=messages[4].id, limit=2
    )
    assert (page, more) == (messages[1:3], True)
    page, more = message_queries.room_messages_between(
        room_id=room.id, after_id=messages[2].id, until_id=messages[4].id, limit=2
    )
    assert (page, more) == (messages[3:5], False)


def test_newest_id(ada, room, other_room):
    assert message_queries.room_newest_id(room_id=room.id) == 0
    last = post(room, ada, 2)[-1]
    post(other_room, ada, 1)
    assert message_queries.room_newest_id(room_id=room.id) == last.id


def say(room, author, body):
    return Message.objects.create(room=room, author=author, body=body)


def test_search_matches_every_word_ignoring_case_newest_first(ada, grace, room, other_room):
    older = say(room, ada, "Green tea is the best TEA")
    say(room, grace, "Coffee only")
    say(room, grace, "green, but no drink")
    newer = say(other_room, grace, "Tea, green or black?")

    hits, more = search_queries.message_search(user=ada, query="tea green", limit=10)

    assert [hit.message for hit in hits] == [newer, older]
    assert more is False
    assert hits[1].snippet == "<mark>Green</mark> <mark>tea</mark> is the best <mark>TEA</mark>"
    assert hits[0].message.room == other_room


def test_search_snippets_are_escaped(ada, room):
    say(room, ada, "<img src=x onerror=alert(1)> tea")
    [hit], _ = search_queries.message_search(user=ada, query="tea", limit=10)
    assert hit.snippet == "&lt;img src=x onerror=alert(1)&gt; <mark>tea</mark>"


def test_search_says_when_there_are_more(ada, room):
    found = [say(room, ada, f"tea {i}") for i in range(3)]
    hits, more = search_queries.message_search(user=ada, query="tea", limit=2)
    assert [hit.message for hit in hits] == found[:0:-1]
    assert more is True


def test_search_finds_nothing_for_operators_alone(ada, room):
    say(room, ada, 'quotes " everywhere')
    assert search_queries.message_search(user=ada, query='"', limit=10) == ([], False)


def test_search_only_reads_readable_rooms(ada, grace, room, other_room, monkeypatch):
    say(room, grace, "tea in general")
    say(other_room, grace, "tea in a room ada cannot read")
    only_general = Room.objects.filter(pk=room.pk)
    monkeypatch.setattr(room_queries, "rooms_readable_by", lambda *, user: only_general)
    hits, _ = search_queries.message_search(user=ada, query="tea", limit=10)
    assert [hit.message.room for hit in hits] == [room]


def test_rooms_one_belongs_to_count_from_their_first_message(ada, grace, room, secret):
    """A private room or a direct conversation is followed without being opened: its
    messages are unread from the first one; a public room never opened still has no count."""
    post(room, grace, 2)
    post(secret, grace, 3)
    states = unread_queries.unread_states_for(user=ada)
    assert set(states) == {secret.id}
    assert states[secret.id].count == 3
    assert states[secret.id].read_id == 0
    first = Message.objects.filter(room=secret).earliest("id")
    assert (
        unread_queries.room_first_unread_id(
            user_id=ada.id, room_id=secret.id, read_id=0, followed=True
        )
        == first.id
    )


def test_a_first_direct_message_is_unread_at_once(ada, grace):
    dm = Room.objects.create(name="dm-1-2", slug="dm-1-2", kind=Room.Kind.DIRECT)
    dm.members.add(ada, grace)
    post(dm, grace, 1)
    assert unread_queries.unread_states_for(user=ada)[dm.id].count == 1
    # Direct conversations reach their members' own groups, not an activity group.
    assert unread_queries.room_ids_followed_by(user=ada) == []


def test_the_unread_state_says_when_an_unread_message_mentions_the_reader(
    ada, grace, secret, make_user
):
    make_user("adam")
    plain = Message.objects.create(room=secret, author=grace, body="hi", mentions=["adam"])
    state = unread_queries.unread_states_for(user=ada)[secret.id]
    assert (state.count, state.mentioned) == (1, False)  # "adam" is not "ada"

    mention = Message.objects.create(room=secret, author=grace, body="@ada", mentions=["ada"])
    assert unread_queries.unread_states_for(user=ada)[secret.id].mentioned is True
    assert (
        unread_queries.unread_states_for(user=ada, room_ids=[secret.id])[secret.id].mentioned
        is True
    )

    read_up_to(ada, secret, mention.id)
    state = unread_queries.unread_states_for(user=ada)[secret.id]
    assert (state.count, state.mentioned) == (0, False)
    assert plain.id < mention.id


def test_one_s_own_mention_of_oneself_is_not_news(ada, secret):
    Message.objects.create(room=secret, author=ada, body="@ada", mentions=["ada"])
    assert unread_queries.unread_states_for(user=ada)[secret.id].mentioned is False
