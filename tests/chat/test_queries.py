from chat import queries
from chat.models import Message


def post(room, author, count):
    return [Message.objects.create(room=room, author=author, body=f"m{i}") for i in range(count)]


def test_latest_page_is_oldest_first_and_knows_about_older(ada, room):
    messages = post(room, ada, 5)
    page, has_older = queries.room_messages_before(room_id=room.id, before_id=None, limit=3)
    assert page == messages[2:]
    assert has_older is True


def test_paging_back_reaches_the_start(ada, room):
    messages = post(room, ada, 5)
    page, has_older = queries.room_messages_before(
        room_id=room.id, before_id=messages[2].id, limit=3
    )
    assert page == messages[:2]
    assert has_older is False


def test_pages_stay_inside_their_room(ada, room, other_room):
    post(other_room, ada, 2)
    mine = post(room, ada, 1)
    assert queries.room_messages_before(room_id=room.id, before_id=None, limit=10) == (mine, False)


def test_room_get_and_name_taken(room):
    assert queries.room_get(slug="general") == room
    assert queries.room_get(slug="missing") is None
    assert queries.room_name_taken(name="GENERAL", slug="x") is True
    assert queries.room_name_taken(name="New", slug="general") is True
    assert queries.room_name_taken(name="New", slug="new") is False
