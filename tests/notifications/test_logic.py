import pytest

from notifications import logic


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
