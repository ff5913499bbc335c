"""Notification rules as pure functions."""

import re
from collections.abc import Callable, Iterable

SITE_GROUP = "site"  # every connected tab
SITE_INBOX_GROUP = "site.inbox"  # every tab showing a notification list
EXCERPT_LENGTH = 140

# "@name" where the @ starts a word (after whitespace, an opening bracket, or the start), so
# e-mail addresses and URLs like https://host/@name are not mentions. Usernames may contain
# letters, digits and . + - _ ; a trailing full stop or dash belongs to the sentence.
MENTION = re.compile(r"(?<![^\s(\[{])@([\w.+-]*[\w+])")


def inbox_group_name(user_id: int) -> str:
    """Only the user's tabs that show the notification list."""
    return f"user.{user_id}.inbox"


def mentioned_names(text: str) -> list[str]:
    """Names mentioned in `text`, lowercased, each once, in order of appearance."""
    seen: dict[str, None] = {}
    for match in MENTION.finditer(text):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)


def link_mentions(escaped: str, names: Iterable[str], url_for: Callable[[str], str]) -> str:
    """Turn @name into a link for each known name in already-escaped HTML text.

    `names` are canonical usernames; matching ignores case, and unknown names stay text.
    """
    canonical = {name.lower(): name for name in names}
    if not canonical:
        return escaped

    def link(match: re.Match[str]) -> str:
        name = canonical.get(match.group(1).lower())
        if name is None:
            return match.group(0)
        return f'<a class="mention" href="{url_for(name)}">@{name}</a>'

    return MENTION.sub(link, escaped)


def excerpt(text: str, *, length: int = EXCERPT_LENGTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


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
