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


@pytest.mark.parametrize("raw", ["dm-1-2", "DM 3 4", "  dm-anything  "])
def test_clean_room_name_keeps_the_direct_prefix_for_direct_conversations(raw):
    with pytest.raises(logic.Invalid, match="may not start with “dm-”"):
        logic.clean_room_name(raw)


@pytest.mark.parametrize(
    ("a", "b", "slug"), [(1, 2, "dm-1-2"), (2, 1, "dm-1-2"), (10, 9, "dm-9-10")]
)
def test_direct_slug_is_one_per_pair_whoever_starts(a, b, slug):
    assert logic.direct_slug(a, b) == slug


@pytest.mark.parametrize(
    ("names", "viewer", "partner"),
    [
        ({1: "ada", 2: "grace"}, 1, "grace"),
        ({1: "ada", 2: "grace"}, 2, "ada"),
        ({1: "ada"}, 1, "yourself"),
    ],
)
def test_direct_partner_is_the_other_person(names, viewer, partner):
    assert logic.direct_partner(names, viewer) == partner


@pytest.mark.parametrize(("raw", "parsed"), [(5, 5), ("12", 12)])
def test_parse_message_id(raw, parsed):
    assert logic.parse_message_id(raw) == parsed


@pytest.mark.parametrize("raw", [0, -3, "x", None, True, [1], "1.5"])
def test_parse_message_id_refuses(raw):
    with pytest.raises(logic.Invalid, match="not a message id"):
        logic.parse_message_id(raw)


@pytest.mark.parametrize(("raw", "parsed"), [(None, None), (0, 0), ("7", 7)])
def test_parse_optional_cursor(raw, parsed):
    assert logic.parse_optional_cursor(raw, name="changes_after") == parsed


@pytest.mark.parametrize("raw", [-1, "x", True, {}])
def test_parse_optional_cursor_refuses(raw):
    with pytest.raises(logic.Invalid, match=r"“changes_after” must be an id\."):
        logic.parse_optional_cursor(raw, name="changes_after")


@pytest.mark.parametrize(
    ("changes", "skip_after", "ids"),
    [
        ([], 100, []),
        # Each message once, ordered by its latest change.
        ([(1, 10), (2, 11), (3, 10)], 100, [11, 10]),
        # Messages newer than the page's message cursor are replayed whole instead.
        ([(1, 10), (2, 50), (3, 12)], 20, [10, 12]),
    ],
)
def test_latest_changes(changes, skip_after, ids):
    assert logic.latest_changes(changes, skip_after=skip_after) == ids


@pytest.mark.parametrize(
    ("author", "deleter", "staff", "allowed"),
    [(1, 1, False, True), (1, 2, False, False), (1, 2, True, True)],
)
def test_may_delete(author, deleter, staff, allowed):
    assert logic.may_delete(author_id=author, deleter_id=deleter, deleter_is_staff=staff) is allowed


@pytest.mark.parametrize(("author", "editor", "allowed"), [(1, 1, True), (1, 2, False)])
def test_may_edit_only_ones_own(author, editor, allowed):
    assert logic.may_edit(author_id=author, editor_id=editor) is allowed


@pytest.mark.parametrize(
    ("member", "remover", "owner", "staff", "allowed"),
    [
        (2, 2, 1, False, True),  # leaving
        (2, 1, 1, False, True),  # the creator removes
        (2, 3, 1, False, False),  # another member may not
        (2, 3, 1, True, True),  # staff may
        (2, 3, None, False, False),  # a room whose creator is gone
    ],
)
def test_may_remove_member(member, remover, owner, staff, allowed):
    assert (
        logic.may_remove_member(
            member_id=member, remover_id=remover, owner_id=owner, remover_is_staff=staff
        )
        is allowed
    )


@pytest.mark.parametrize("raw", [-1, "-5", 2**63, str(2**64), "1e3", 1.5, None, True, [1], {}])
def test_parse_cursor_refuses_what_is_not_a_message_id(raw):
    with pytest.raises(logic.Invalid, match="must be a message id"):
        logic.parse_cursor(raw)
