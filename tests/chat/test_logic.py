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
        ("nul\x00 byte", "nul byte"),
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
        ("\x00\x00", "Type a message first."),
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


@pytest.mark.parametrize(("raw", "expected"), [(0, 0), ("12", 12), (2**63 - 1, 2**63 - 1)])
def test_parse_cursor_accepts_message_ids(raw, expected):
    assert logic.parse_cursor(raw) == expected


@pytest.mark.parametrize("raw", [-1, "-5", 2**63, str(2**64), "1e3", 1.5, None, True, [1], {}])
def test_parse_cursor_refuses_what_is_not_a_message_id(raw):
    with pytest.raises(logic.Invalid, match="must be a message id"):
        logic.parse_cursor(raw)
