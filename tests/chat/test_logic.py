import uuid

import pytest

from chat import logic
from realtime import validation


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hello", "hello"),
        ("  padded \n", "padded"),
        ("two\r\nlines", "two\nlines"),
        ("old\rmac", "old\nmac"),
        ("nul\x00 byte", "nul byte"),
        ("x" * 10, "x" * 10),
        ("\u200bhi", "\u200bhi"),
        ("\u05e9\u05dc\u05d5\u05dd", "\u05e9\u05dc\u05d5\u05dd"),
        ("\U0001f469\u200d\U0001f4bb", "\U0001f469\u200d\U0001f4bb"),
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
        # Nothing to see: zero-width spaces and joiners, a word joiner, a byte order mark,
        # direction controls, Hangul fillers, the blank braille pattern.
        ("\u200b", "Type a message first."),
        ("\u200b\u200c\u200d\u2060\ufeff", "Type a message first."),
        (" \u202e\u2066\u200f\n", "Type a message first."),
        ("\u3164\u115f\u2800", "Type a message first."),
        ("x" * 11, "That message is 11 characters long; the limit is 10."),
    ],
)
def test_clean_body_refuses(raw, error):
    with pytest.raises(validation.Invalid, match=error):
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
    with pytest.raises(validation.Invalid, match="malformed client id"):
        logic.parse_client_id(raw)


@pytest.mark.parametrize(
    ("raw", "name", "slug"),
    [
        ("General", "General", "general"),
        ("  Design   reviews ", "Design reviews", "design-reviews"),
        ("Café talk", "Café talk", "cafe-talk"),
        # Marks (not embeddings) stay: right-to-left writers use them.
        ("Team \u200fA", "Team \u200fA", "team-a"),
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
        ("\u202elareneG", "change the direction of text"),
        ("News \u2067x\u2069", "change the direction of text"),
        ("a\u202ab", "change the direction of text"),
    ],
)
def test_clean_room_name_refuses(raw, error):
    with pytest.raises(validation.Invalid, match=error):
        logic.clean_room_name(raw)


def test_room_group_name_is_a_valid_group_name():
    assert logic.room_group_name(7) == "chat.room.7"


@pytest.mark.parametrize("raw", ["dm-1-2", "DM 3 4", "  dm-anything  "])
def test_clean_room_name_keeps_the_direct_prefix_for_direct_conversations(raw):
    with pytest.raises(validation.Invalid, match="may not start with “dm-”"):
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


@pytest.mark.parametrize(
    ("count", "label"), [(0, "0"), (1, "1"), (99, "99"), (100, "99+"), (12_345, "99+")]
)
def test_unread_label_caps_at_99(count, label):
    assert logic.unread_label(count) == label


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
    with pytest.raises(validation.Invalid) as refused:
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
        (logic.reader_group_name, 3, "user.3.reader"),
    ],
)
def test_group_names(function, argument, name):
    assert function(argument) == name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, []), ([], []), ([3, "1", 3], [1, 3]), (list(range(50)), list(range(50)))],
)
def test_parse_shown_ids_gives_the_ids_once_in_order(raw, expected):
    assert logic.parse_shown_ids(raw) == expected


@pytest.mark.parametrize("raw", ["1,2", 7, {"a": 1}, [True], [-1], ["x"], list(range(51))])
def test_parse_shown_ids_refuses_what_is_not_a_short_list_of_ids(raw):
    with pytest.raises(validation.Invalid, match="“have” must be"):
        logic.parse_shown_ids(raw)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("hi @ada", ["ada"]),
        ("@Ada and @grace, and @ada again", ["ada", "grace"]),
        ("thanks @linus.", ["linus"]),
        ("(@grace) [@ada]", ["grace", "ada"]),
        ("mail grace@example.com", []),
        ("see https://example.com/@ada", []),
        ("@ alone", []),
        ("dotted @first.last-name", ["first.last-name"]),
        ("line\n@ada", ["ada"]),
    ],
)
def test_mentioned_names(text, names):
    assert logic.mentioned_names(text) == names


def url_for(name):
    return f"/people/{name}/"


def test_link_mentions_links_known_names_only():
    html = logic.link_mentions("hi @ADA and @nobody", ["ada"], url_for)
    assert html == 'hi <a class="mention" href="/people/ada/">@ada</a> and @nobody'


def test_link_mentions_leaves_urls_alone():
    linked = '<a href="https://x.com/@ada" rel="nofollow">https://x.com/@ada</a> @ada'
    html = logic.link_mentions(linked, ["ada"], url_for)
    assert html.startswith('<a href="https://x.com/@ada" rel="nofollow">https://x.com/@ada</a> ')
    assert html.endswith('<a class="mention" href="/people/ada/">@ada</a>')


def test_link_mentions_without_names_is_identity():
    assert logic.link_mentions("@ada", [], url_for) == "@ada"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("short", "short"), ("  lots\n of  room ", "lots of room"), ("x" * 20, "x" * 11 + "…")],
)
def test_excerpt(text, expected):
    assert logic.excerpt(text, length=12) == expected
