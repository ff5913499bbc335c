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


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), (str(2**63 - 1), 2**63 - 1)])
def test_id_converter_accepts(raw, expected):
    assert validation.IdConverter().to_python(raw) == expected


# A ValueError is what tells Django's resolver that the path does not match.
@pytest.mark.parametrize("raw", ["0", str(2**63), "9" * 5000])
def test_id_converter_refuses_as_no_match(raw):
    with pytest.raises(ValueError, match="must be a message id"):
        validation.IdConverter().to_python(raw)


# Every URL with an id in its path, with one no id column holds: no view sees it. (Dismissing
# an announcement compared it with a foreign key, and SQLite raised OverflowError: a 500.)
@pytest.mark.parametrize("too_large", [2**63, 10**30])
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/attachments/{}/original/"),
        ("get", "/previews/{}/image/"),
        ("get", "/exports/{}/download/"),
        ("get", "/invitations/{}/"),
        ("post", "/invitations/{}/accept/"),
        ("post", "/invitations/{}/decline/"),
        ("get", "/messages/{}/"),
        ("post", "/messages/{}/edit/"),
        ("post", "/messages/{}/delete/"),
        ("post", "/notifications/{}/read/"),
        ("post", "/notifications/announcements/{}/dismiss/"),
    ],
)
def test_ids_no_column_can_hold_are_not_found(client, ada, method, url, too_large):
    client.force_login(ada)
    response = getattr(client, method)(url.format(too_large))
    assert response.status_code == 404
