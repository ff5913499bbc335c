import csv
import io
import ipaddress
import json
import uuid
from datetime import UTC, datetime

import pytest

from chat import logic
from chat.attachments.logic import image_refusal, thumbnail_size, upload_size_refusal
from chat.exports.logic import (
    TranscriptLine,
    percent_done,
    spreadsheet_safe,
    transcript_csv_header,
    transcript_csv_rows,
    transcript_json_head,
    transcript_json_rows,
)
from chat.previews.logic import (
    FetchTarget,
    PageMetadata,
    Refused,
    address_refusal,
    content_type,
    embedded_ipv4,
    first_link,
    page_metadata,
    parse_fetch_url,
    parse_networks,
)
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
    with pytest.raises(validation.Invalid, match=error):
        logic.clean_room_name(raw)


def test_room_group_name_is_a_valid_group_name():
    assert logic.room_group_name(7) == "chat.room.7"


@pytest.mark.parametrize(("raw", "expected"), [(0, 0), ("12", 12), (2**63 - 1, 2**63 - 1)])
def test_parse_cursor_accepts_message_ids(raw, expected):
    assert validation.parse_cursor(raw) == expected


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


@pytest.mark.parametrize(("raw", "parsed"), [(5, 5), ("12", 12)])
def test_parse_message_id(raw, parsed):
    assert logic.parse_message_id(raw) == parsed


@pytest.mark.parametrize("raw", [0, -3, "x", None, True, [1], "1.5"])
def test_parse_message_id_refuses(raw):
    with pytest.raises(validation.Invalid, match="not a message id"):
        logic.parse_message_id(raw)


@pytest.mark.parametrize(("raw", "parsed"), [(None, None), (0, 0), ("7", 7)])
def test_parse_optional_cursor(raw, parsed):
    assert validation.parse_optional_cursor(raw, name="changes_after") == parsed


@pytest.mark.parametrize("raw", [-1, "x", True, {}])
def test_parse_optional_cursor_refuses(raw):
    with pytest.raises(validation.Invalid, match=r"“changes_after” must be an id\."):
        validation.parse_optional_cursor(raw, name="changes_after")


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
    with pytest.raises(validation.Invalid, match="must be a message id"):
        validation.parse_cursor(raw)


@pytest.mark.parametrize(
    ("count", "label"), [(0, "0"), (1, "1"), (99, "99"), (100, "99+"), (12_345, "99+")]
)
def test_unread_label_caps_at_99(count, label):
    assert logic.unread_label(count) == label


@pytest.mark.parametrize(("raw", "expected"), [(1, 1), ("42", 42), (" 7 ", 7), (10**12, 10**12)])
def test_parse_id_accepts(raw, expected):
    assert validation.parse_id(raw, field="around") == expected


@pytest.mark.parametrize("raw", [0, -3, "0", "abc", "", "1.5", None, True, 2.0, [], {}])
def test_parse_id_refuses(raw):
    with pytest.raises(validation.Invalid) as refused:
        validation.parse_id(raw, field="room", noun="room")
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


# Link previews, attachments, exports ----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "link"),
    [
        ("see https://example.com/a?b=c, it is good", "https://example.com/a?b=c"),
        ("(https://example.com/page).", "https://example.com/page"),
        ("https://en.wikipedia.org/wiki/Foo_(bar)", "https://en.wikipedia.org/wiki/Foo_(bar)"),
        ("HTTP://EXAMPLE.COM", "HTTP://EXAMPLE.COM"),
        ("two: http://a.example/ and https://b.example/", "http://a.example/"),
        ("ftp://example.com/file and javascript:alert(1)", None),
        ("no links here", None),
        ("https://", None),
    ],
)
def test_first_link(body, link):
    assert first_link(body) == link


@pytest.mark.parametrize(
    ("url", "target"),
    [
        (
            "https://example.com",
            FetchTarget("https://example.com/", "https", "example.com", 443, "/"),
        ),
        (
            "http://example.com:8080/a/b?q=1#frag",
            FetchTarget("http://example.com:8080/a/b?q=1", "http", "example.com", 8080, "/a/b?q=1"),
        ),
        (
            "https://bücher.example/",
            FetchTarget("https://bücher.example/", "https", "xn--bcher-kva.example", 443, "/"),
        ),
    ],
)
def test_parse_fetch_url(url, target):
    assert parse_fetch_url(url) == target


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/", "Only http and https"),
        ("file:///etc/passwd", "Only http and https"),
        ("gopher://example.com/", "Only http and https"),
        ("http://user:pw@example.com/", "credentials"),
        ("http:///path", "no host"),
        ("http://example.com:99999/", "malformed"),
        ("https://example.com/" + "a" * 2000, "too long"),
    ],
)
def test_parse_fetch_url_refuses(url, reason):
    with pytest.raises(Refused, match=reason):
        parse_fetch_url(url)


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("93.184.215.14", None),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", None),
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00:ec2::254", "private"),
        ("0.0.0.0", "private or reserved"),  # noqa: S104
        ("224.0.0.1", "private or reserved"),
        ("100.64.0.1", "not public"),
        ("not-an-ip", "not an IP address"),
    ],
)
def test_address_refusal(address, refused):
    reason = address_refusal(address, allowed=[])
    if refused is None:
        assert reason is None
    else:
        assert reason is not None
        assert refused in reason


def six_to_four(ipv4: str) -> str:
    return str(ipaddress.IPv6Address((0x2002 << 112) | (int(ipaddress.IPv4Address(ipv4)) << 80)))


def teredo(client: str, server: str = "65.54.227.120") -> str:
    """A Teredo address: the server, flags, then the client's port and address obfuscated."""
    value = (0x20010000 << 96) | (int(ipaddress.IPv4Address(server)) << 64)
    value |= (0xFFFF ^ 40000) << 32
    value |= 0xFFFFFFFF ^ int(ipaddress.IPv4Address(client))
    return str(ipaddress.IPv6Address(value))


def nat64(ipv4: str) -> str:
    return f"64:ff9b::{ipv4}"


EMBEDDED_CASES = [
    ("127.0.0.1", "It points to this server (a loopback address)."),
    ("169.254.169.254", "It points to a link-local address (such as a cloud metadata service)."),
    ("10.0.0.1", "It points to a private or reserved network."),
    ("192.168.1.1", "It points to a private or reserved network."),
    ("172.16.5.4", "It points to a private or reserved network."),
    ("0.0.0.0", "It points to a private or reserved network."),  # noqa: S104
    ("100.64.0.1", "It points to an address that is not public."),
    ("93.184.215.14", None),
]


@pytest.mark.parametrize("embed", [six_to_four, teredo, nat64], ids=["6to4", "teredo", "nat64"])
@pytest.mark.parametrize(("ipv4", "refusal"), EMBEDDED_CASES)
def test_embedded_ipv4_is_judged_by_the_address_it_embeds(embed, ipv4, refusal):
    # Whatever the interpreter: Python 3.12.1 does not classify 6to4 at all.
    assert address_refusal(embed(ipv4), allowed=[]) == refusal


def test_embedded_addresses_are_decoded():
    assert six_to_four("127.0.0.1") == "2002:7f00:1::"
    assert teredo("127.0.0.1").startswith("2001:0:4136:e378:")
    assert embedded_ipv4(ipaddress.IPv6Address(teredo("10.0.0.1"))) == [
        ipaddress.IPv4Address("10.0.0.1"),
        ipaddress.IPv4Address("65.54.227.120"),
    ]
    assert embedded_ipv4(ipaddress.IPv6Address("2606:2800:21f:cb07:6820:80da:af6b:8b2c")) == []


def test_a_teredo_address_through_an_inner_server_is_refused():
    refusal = address_refusal(teredo("93.184.215.14", server="127.0.0.1"), allowed=[])
    assert refusal == "It points to this server (a loopback address)."


def test_local_use_nat64_is_refused_since_its_embedding_is_unknown():
    assert address_refusal("64:ff9b:1::7f00:1", allowed=[]) == (
        "It points to a private or reserved network (local-use NAT64)."
    )


def test_an_allowed_network_lets_an_embedded_address_through():
    allowed = parse_networks(["10.0.0.0/8"])
    assert address_refusal(nat64("10.1.2.3"), allowed=allowed) is None
    assert address_refusal(six_to_four("10.1.2.3"), allowed=allowed) is None


def test_with_public_off_only_allowed_networks_are_fetched():
    allowed = parse_networks(["127.0.0.1/32"])
    assert address_refusal("127.0.0.1", allowed=allowed, public=False) is None
    assert "allow-listed" in (address_refusal("93.184.215.14", allowed=allowed, public=False) or "")
    assert "private" in (address_refusal("10.0.0.1", allowed=allowed, public=False) or "")


def test_allowed_networks_let_private_addresses_through():
    allowed = parse_networks(["127.0.0.1/32", " 10.0.0.0/8 ", ""])
    assert address_refusal("127.0.0.1", allowed=allowed) is None
    assert address_refusal("10.9.8.7", allowed=allowed) is None
    assert address_refusal("127.0.0.2", allowed=allowed) is not None
    assert address_refusal("169.254.169.254", allowed=allowed) is not None


@pytest.mark.parametrize(
    ("header", "parsed"),
    [
        ("text/html; charset=ISO-8859-1", ("text/html", "ISO-8859-1")),
        ('Text/HTML; Charset="utf-8"', ("text/html", "utf-8")),
        ("image/png", ("image/png", None)),
        (None, ("", None)),
    ],
)
def test_content_type(header, parsed):
    assert content_type(header) == parsed


PAGE = """<!doctype html><html><head>
<title>  Plain   title </title>
<meta property="og:title" content="Open &amp; Graph">
<meta name="description" content="Plain description">
<meta property="og:description" content="<script>alert(1)</script>">
<meta property="og:site_name" content="Example">
<meta property="og:image" content="/img/card.png">
</head><body><meta property="og:title" content="ignored, in the body"></body></html>"""


def test_page_metadata_prefers_open_graph():
    assert page_metadata(PAGE, base_url="https://example.com/post/1") == PageMetadata(
        title="Open & Graph",
        description="<script>alert(1)</script>",
        site_name="Example",
        image_url="https://example.com/img/card.png",
    )


@pytest.mark.parametrize(
    ("html", "metadata"),
    [
        (
            "<title>Only a title</title><meta name=description content='Short'>",
            PageMetadata(title="Only a title", description="Short"),
        ),
        ("<p>no head at all</p>", PageMetadata()),
        (
            "<meta property='og:image' content='javascript:alert(1)'><title>t</title>",
            PageMetadata(title="t"),
        ),
        (f"<title>{'x' * 400}</title>", PageMetadata(title="x" * 299 + "…")),
    ],
)
def test_page_metadata_cases(html, metadata):
    assert page_metadata(html, base_url="https://example.com/") == metadata


@pytest.mark.parametrize(
    ("image_format", "width", "height", "refused"),
    [
        ("PNG", 100, 100, None),
        ("WEBP", 4000, 3000, None),
        ("BMP", 10, 10, "JPEG, PNG, GIF or WebP"),
        (None, 10, 10, "JPEG, PNG, GIF or WebP"),
        ("PNG", 10_000, 10_000, "million pixels"),
        ("GIF", 0, 10, "no pixels"),
    ],
)
def test_image_refusal(image_format, width, height, refused):
    reason = image_refusal(
        image_format=image_format, width=width, height=height, max_pixels=30_000_000
    )
    assert (reason is None) if refused is None else (refused in (reason or ""))


@pytest.mark.parametrize(
    ("size", "refused"),
    [(1, None), (10_000_000, None), (0, "empty"), (10_000_001, "limit is 10 MB")],
)
def test_upload_size_refusal(size, refused):
    reason = upload_size_refusal(size, max_bytes=10_000_000)
    assert (reason is None) if refused is None else (refused in (reason or ""))


@pytest.mark.parametrize(
    ("size", "box", "expected"),
    [((1000, 500), 480, (480, 240)), ((500, 1000), 480, (240, 480)), ((100, 50), 480, (100, 50))],
)
def test_thumbnail_size(size, box, expected):
    assert thumbnail_size(*size, box=box) == expected


LINES = [
    TranscriptLine(1, datetime(2026, 11, 29, 9, 0, tzinfo=UTC), "ada", "Hello, world"),
    TranscriptLine(2, datetime(2026, 11, 29, 9, 1, tzinfo=UTC), "grace", '=HYPERLINK("x")'),
    TranscriptLine(3, datetime(2026, 11, 29, 9, 2, tzinfo=UTC), "linus", "two\nlines"),
]


def test_transcript_csv_quotes_and_defuses_formulas():
    text = transcript_csv_header() + transcript_csv_rows(LINES)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["id", "sent_at", "author", "body"]
    assert rows[1] == ["1", "2026-11-29T09:00:00+00:00", "ada", "Hello, world"]
    assert rows[2][3] == '\'=HYPERLINK("x")'
    assert rows[3][3] == "two\nlines"


@pytest.mark.parametrize(
    ("cell", "safe"), [("=1+1", "'=1+1"), ("@SUM", "'@SUM"), ("-2", "'-2"), ("ok", "ok")]
)
def test_spreadsheet_safe(cell, safe):
    assert spreadsheet_safe(cell) == safe


@pytest.mark.parametrize(
    "batches", [[LINES], [LINES[:1], LINES[1:]], [LINES[:1], [], LINES[1:]], [[]]]
)
def test_transcript_json_is_valid_however_it_is_batched(batches):
    text = transcript_json_head(room="General", slug="general", exported_at=LINES[0].sent_at)
    written = 0
    for batch in batches:
        text += transcript_json_rows(batch, first=written == 0)
        written += len(batch)
    text += "]}"
    document = json.loads(text)
    assert document["room"] == "General"
    assert [m["id"] for m in document["messages"]] == [
        line.id for batch in batches for line in batch
    ]


@pytest.mark.parametrize(
    ("done", "total", "percent"),
    [(0, 10, 0), (5, 10, 50), (10, 10, 100), (12, 10, 100), (0, 0, 100)],
)
def test_percent_done(done, total, percent):
    assert percent_done(done, total) == percent


@pytest.mark.parametrize(
    ("raw", "ids"),
    [(None, []), ([], []), ([3, 1, 3], [3, 1]), (list(range(1, 101)), list(range(1, 101)))],
)
def test_parse_ids(raw, ids):
    assert validation.parse_ids(raw) == ids


@pytest.mark.parametrize(
    "raw", ["1,2", [0], [-1], ["1"], [1.5], [True], list(range(1, 102)), {"a": 1}]
)
def test_parse_ids_refuses(raw):
    with pytest.raises(validation.Invalid):
        validation.parse_ids(raw)


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
