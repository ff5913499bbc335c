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


@pytest.mark.parametrize(
    ("count", "label"), [(0, "0"), (1, "1"), (99, "99"), (100, "99+"), (12_345, "99+")]
)
def test_unread_label_caps_at_99(count, label):
    assert logic.unread_label(count) == label


@pytest.mark.parametrize(("raw", "expected"), [(1, 1), ("42", 42), (" 7 ", 7), (10**12, 10**12)])
def test_parse_id_accepts(raw, expected):
    assert logic.parse_id(raw, field="around") == expected


@pytest.mark.parametrize("raw", [0, -3, "0", "abc", "", "1.5", None, True, 2.0, [], {}])
def test_parse_id_refuses(raw):
    with pytest.raises(logic.Invalid) as refused:
        logic.parse_id(raw, field="room", noun="room")
    assert str(refused.value) == "“room” must be a room id."


@pytest.mark.parametrize(("limit", "split"), [(50, (25, 25)), (3, (1, 2)), (1, (0, 1))])
def test_window_split_puts_the_anchor_in_the_second_half(limit, split):
    assert logic.window_split(limit) == split


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("tea", "tea"), ("  green   tea \n", "green tea"), ("x" * 10, "x" * 10)],
)
def test_clean_search_query_accepts(raw, expected):
    assert logic.clean_search_query(raw, max_length=10) == expected


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("", "Type something to search for."),
        ("  \t\n", "Type something to search for."),
        (None, "Type something to search for."),
        (["tea"], "Type something to search for."),
        ("x" * 11, "Searches are at most 10 characters; that one is 11."),
    ],
)
def test_clean_search_query_refuses(raw, error):
    with pytest.raises(logic.Invalid) as refused:
        logic.clean_search_query(raw, max_length=10)
    assert str(refused.value) == error


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("Green TEA", ["green", "tea"]),
        ('"green tea" -milk', ["green", "tea", "milk"]),
        ("tea or coffee tea", ["tea", "coffee"]),
        ("\"'", []),
    ],
)
def test_search_terms(query, terms):
    assert logic.search_terms(query) == terms


M0, M1 = logic.MARK_START, logic.MARK_STOP


@pytest.mark.parametrize(
    ("body", "terms", "width", "expected"),
    [
        ("I like green tea", ["tea"], 80, f"I like green {M0}tea{M1}"),
        ("Tea, TEA and tea", ["tea"], 80, f"{M0}Tea{M1}, {M0}TEA{M1} and {M0}tea{M1}"),
        ("teapot", ["tea", "teapot"], 80, f"{M0}teapot{M1}"),
        ("no match here", ["tea"], 80, "no match here"),
        ("a  b\n\nc tea", ["tea"], 80, f"a b c {M0}tea{M1}"),
        (
            "one two three four five six seven eight nine tea ten eleven twelve",
            ["tea"],
            24,
            f"…nine {M0}tea{M1} ten eleven t…",
        ),
        (f"stray {M0}marker tea", ["tea"], 80, f"stray marker {M0}tea{M1}"),
    ],
)
def test_marked_snippet(body, terms, width, expected):
    assert logic.marked_snippet(body, terms, width=width) == expected


@pytest.mark.parametrize(
    ("marked", "html"),
    [
        (f"I like {M0}tea{M1}", "I like <mark>tea</mark>"),
        (f"<b>{M0}<i>{M1}</b>", "&lt;b&gt;<mark>&lt;i&gt;</mark>&lt;/b&gt;"),
        (f"{M0}unclosed & open", "unclosed &amp; open"),
        (f"stray{M1} stop", "stray stop"),
        (f"{M0}a{M1}{M1} {M0}b{M1}", "<mark>a</mark> <mark>b</mark>"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ],
)
def test_highlight_escapes_everything_but_the_marks(marked, html):
    assert logic.highlight(marked) == html


@pytest.mark.parametrize(
    ("function", "argument", "name"),
    [
        (logic.room_activity_group_name, 7, "chat.activity.7"),
        (logic.reader_group_name, 3, "chat.reader.3"),
    ],
)
def test_group_names(function, argument, name):
    assert function(argument) == name
