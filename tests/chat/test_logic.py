import uuid

import pytest

from chat import logic


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hello", "hello"),
        ("  padded \n", "padded"),
        ("two\r\nlines", "two\nlines"),
        ("old\rmac", "old\nmac"),
        ("x" * 10, "x" * 10),
    ],
)
def test_clean_body_accepts(raw, expected):
    assert logic.clean_body(raw, max_length=10) == expected


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("", "Type a message first."),
        ("   \n\t ", "Type a message first."),
        (None, "Type a message first."),
        (42, "Type a message first."),
        (["list"], "Type a message first."),
        ("x" * 11, "That message is 11 characters long; the limit is 10."),
    ],
)
def test_clean_body_refuses(raw, error):
    with pytest.raises(logic.Invalid, match=error):
        logic.clean_body(raw, max_length=10)


def test_clean_body_limit_counts_after_stripping():
    assert logic.clean_body("  " + "x" * 10 + "  ", max_length=10) == "x" * 10


@pytest.mark.parametrize("raw", [None, ""])
def test_parse_client_id_missing(raw):
    assert logic.parse_client_id(raw) is None


def test_parse_client_id_valid():
    value = uuid.uuid4()
    assert logic.parse_client_id(str(value)) == value


@pytest.mark.parametrize("raw", ["nope", "1234", {"a": 1}])
def test_parse_client_id_malformed(raw):
    with pytest.raises(logic.Invalid, match="malformed client id"):
        logic.parse_client_id(raw)


@pytest.mark.parametrize(
    ("raw", "name", "slug"),
    [
        ("General", "General", "general"),
        ("  Design   reviews ", "Design reviews", "design-reviews"),
        ("Café talk", "Café talk", "cafe-talk"),
    ],
)
def test_clean_room_name(raw, name, slug):
    assert logic.clean_room_name(raw) == (name, slug)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("", "Give the room a name."),
        ("   ", "Give the room a name."),
        (None, "Give the room a name."),
        ("!!!", "at least one letter or digit"),
        ("x" * 61, "at most 60 characters"),
    ],
)
def test_clean_room_name_refuses(raw, error):
    with pytest.raises(logic.Invalid, match=error):
        logic.clean_room_name(raw)


def test_room_group_name_is_a_valid_group_name():
    assert logic.room_group_name(7) == "chat.room.7"


def test_token_bucket_allows_a_burst_then_the_rate():
    bucket = logic.TokenBucket.full(rate=2, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.25) is False  # half a token back
    assert bucket.take(0.5) is True  # one whole token
    assert bucket.take(0.5) is False
    assert bucket.is_full(10.0)
    assert bucket.take(10.0) is True
    assert bucket.tokens == 2  # refills to the burst, never beyond


def test_token_bucket_ignores_a_clock_going_backwards():
    bucket = logic.TokenBucket.full(rate=1, burst=1, now=5.0)
    assert bucket.take(5.0)
    assert not bucket.take(4.0)
