import pytest

from notifications import logic


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


def test_group_names():
    assert logic.inbox_group_name(3) == "user.3.inbox"


@pytest.mark.parametrize(
    ("count", "subject"),
    [
        (1, "You have 1 unread notification on Relay"),
        (3, "You have 3 unread notifications on Relay"),
    ],
)
def test_digest_subject(count, subject):
    assert logic.digest_subject(count) == subject


@pytest.mark.parametrize(
    ("actor", "target", "excerpt", "line"),
    [
        ("ada", "#general", "hi @grace", "- ada mentioned you in #general: “hi @grace”"),
        (None, "#general (CSV)", "", "- mentioned you in #general (CSV)"),
        ("ada", "", "", "- ada mentioned you"),
    ],
)
def test_digest_line(actor, target, excerpt, line):
    assert (
        logic.digest_line(actor=actor, verb="mentioned you", target_label=target, excerpt=excerpt)
        == line
    )


def test_digest_body_lists_every_line_and_the_inbox():
    body = logic.digest_body(username="grace", lines=["- a", "- b"], inbox_url="https://x/n/")
    assert body.startswith("Hello grace,")
    assert "- a\n- b" in body
    assert body.endswith("See them all: https://x/n/\n")
