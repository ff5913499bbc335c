import pytest

from realtime import validation


@pytest.mark.parametrize(("raw", "expected"), [(0, 0), ("12", 12), (2**63 - 1, 2**63 - 1)])
def test_parse_cursor_accepts_message_ids(raw, expected):
    assert validation.parse_cursor(raw) == expected


@pytest.mark.parametrize(("raw", "parsed"), [(None, None), (0, 0), ("7", 7)])
def test_parse_optional_cursor(raw, parsed):
    assert validation.parse_optional_cursor(raw, name="changes_after") == parsed


@pytest.mark.parametrize("raw", [-1, "x", True, {}])
def test_parse_optional_cursor_refuses(raw):
    with pytest.raises(validation.Invalid, match=r"“changes_after” must be an id\."):
        validation.parse_optional_cursor(raw, name="changes_after")


@pytest.mark.parametrize("raw", [-1, "-5", 2**63, str(2**64), "1e3", 1.5, None, True, [1], {}])
def test_parse_cursor_refuses_what_is_not_a_message_id(raw):
    with pytest.raises(validation.Invalid, match="must be a message id"):
        validation.parse_cursor(raw)


@pytest.mark.parametrize(
    ("raw", "expected"), [(1, 1), ("42", 42), (" 7 ", 7), (2**63 - 1, 2**63 - 1)]
)
def test_parse_id_accepts(raw, expected):
    assert validation.parse_id(raw, field="around") == expected


@pytest.mark.parametrize(
    "raw", [0, -3, "0", "abc", "", "1.5", None, True, 2.0, [], {}, 2**63, str(2**63)]
)
def test_parse_id_refuses(raw):
    with pytest.raises(validation.Invalid) as refused:
        validation.parse_id(raw, field="room", noun="room")
    assert str(refused.value) == "“room” must be a room id."


@pytest.mark.parametrize(
    ("raw", "ids"),
    [(None, []), ([], []), ([3, 1, 3], [3, 1]), (list(range(1, 101)), list(range(1, 101)))],
)
def test_parse_ids(raw, ids):
    assert validation.parse_ids(raw) == ids


@pytest.mark.parametrize(
    "raw", ["1,2", [0], [-1], [2**63], ["1"], [1.5], [True], list(range(1, 102)), {"a": 1}]
)
def test_parse_ids_refuses(raw):
    with pytest.raises(validation.Invalid):
        validation.parse_ids(raw)
