"""Pure rules of the shared real-time plumbing: values in, values out."""

from collections.abc import Iterable, Mapping

PRESENCE_KEY_PREFIX = "relay:presence:"
SITE_SPACE = "site"


def presence_key(space: str) -> str:
    """The Redis key of one presence space (a page, a room, the whole site)."""
    return f"{PRESENCE_KEY_PREFIX}{space}"


def presence_member(user_id: int, socket_id: str) -> str:
    """One open socket of one person: several tabs are several members of one person."""
    return f"{user_id}:{socket_id}"


def member_user_id(member: str) -> int | None:
    user_id, separator, socket_id = member.partition(":")
    if not separator or not socket_id or not user_id.isdigit():
        return None
    return int(user_id)


def people(members: Iterable[str]) -> list[int]:
    """The distinct people behind some members, in ascending id order."""
    return sorted({uid for uid in map(member_user_id, members) if uid is not None})


def expires_at(now: float, *, ttl: float) -> float:
    return now + ttl


def live_members(entries: Mapping[str, float], *, now: float) -> list[str]:
    """Members whose entry has not expired at `now` (each entry holds its expiry time)."""
    return sorted(member for member, expiry in entries.items() if expiry > now)


def key_ttl(ttl: float) -> int:
    """How long Redis keeps a whole space nobody refreshes: a few entry lifetimes, whole
    seconds, so an abandoned key disappears without anyone pruning it."""
    return max(1, int(ttl * 3 + 0.999))


def announce_interval(*, people: int, every: float, reach: float) -> float:
    """The least time between two announcements of a space of `people`: at least `every`,
    and long enough that at most `reach` people a second are told (each announcement goes to
    everyone there)."""
    return max(every, people / reach)


def next_announcement(*, now: float, last: float | None, interval: float) -> float:
    """When a change may next be announced: at once if the last announcement is older than
    `interval`, else `interval` after it. Bounds announcements to one per interval."""
    if last is None:
        return now
    return max(now, last + interval)
