"""Notification rules as pure functions."""

from collections.abc import Iterable

SITE_INBOX_GROUP = "site.inbox"  # every tab showing a notification list


def inbox_group_name(user_id: int) -> str:
    """Only the user's tabs that show the notification list."""
    return f"user.{user_id}.inbox"


def digest_subject(count: int) -> str:
    return f"You have {count} unread notification{'s' if count != 1 else ''} on Relay"


def digest_line(*, actor: str | None, verb: str, target_label: str, excerpt: str) -> str:
    who = f"{actor} " if actor else ""
    line = f"- {who}{verb}" + (f" in {target_label}" if target_label else "")
    return line + (f": “{excerpt}”" if excerpt else "")


def digest_body(*, username: str, lines: Iterable[str], inbox_url: str) -> str:
    return (
        f"Hello {username},\n\nWhile you were away:\n\n"
        + "\n".join(lines)
        + f"\n\nSee them all: {inbox_url}\n"
    )
