"""Start-up checks: a run that cannot measure what it claims refuses to start.

Each check raises `StartupError` with a message naming the cause; the locustfile turns it into
a non-zero exit before any user connects. The checks that need the site (sessions, rooms) ask
it over HTTP with the kit's `SiteClient`.
"""

import urllib.parse
from collections.abc import Sequence

from loadtest.locust.safety import is_loopback
from loadtest.locust.scenarios import Plan, room_name
from loadtest.locust.siteclient import SiteClient, SiteError

ANNOUNCE_PATH = "/notifications/announce/"


class StartupError(Exception):
    pass


def check_user_count(
    rows: Sequence[tuple[str, str]], users: int | None, *, path: str, share: bool
) -> None:
    if users is not None and users > len(rows) and not share:
        raise StartupError(
            f"{users} users but only {len(rows)} sessions in {path}: users would share "
            f"sessions and the server would refuse the extra sockets per user. Make more "
            f"(manage.py loadtest_users --count {users}) or pass --share-sessions."
        )


def check_announcements(plan: Plan, base_url: str, *, allowed: bool) -> None:
    """Announcements notify every active account: on another machine, only when asked."""
    hostname = urllib.parse.urlsplit(base_url).hostname or ""
    if plan.announce_every and not is_loopback(hostname) and not allowed:
        raise StartupError(
            f"Announcements on {hostname} would notify every active user of that site, not "
            f"just the load-test users. Pass --allow-announcements if that is what you want."
        )


def check_signed_in(client: SiteClient, path: str, *, who: str) -> int:
    """GET `path`; a redirect to the sign-in page means the session is not valid there."""
    status, _, _ = client.request("GET", path)
    if status in (301, 302, 401):
        raise StartupError(
            f"{who} does not sign in on {client.base_url} (GET {path} answered {status}): "
            f"expired, or made for another database?"
        )
    return status


def check_rooms(client: SiteClient, plan: Plan, *, create: bool, who: str) -> list[str]:
    """The plan's rooms exist (or are created, with `create`); returns the ones created."""
    created = []
    for slug in plan.all_rooms():
        path = f"/rooms/{urllib.parse.quote(slug)}/"
        status = check_signed_in(client, path, who=who)
        if status == 200:
            continue
        if status != 404:
            raise StartupError(f"GET {path} answered {status}; cannot tell if room {slug} exists")
        if not create:
            raise StartupError(
                f"Room {slug!r} does not exist on {client.base_url}. Check --room, or pass "
                f"--create-room to create it as a public room."
            )
        client.create_room(room_name(slug))
        if not client.room_exists(slug):
            raise StartupError(f"Could not create room {slug!r} on {client.base_url}")
        created.append(slug)
    return created


def check_staff(client: SiteClient) -> str:
    """The staff session can post announcements; returns the form's CSRF token."""
    status = check_signed_in(client, ANNOUNCE_PATH, who="The staff session")
    if status != 200:
        raise StartupError(
            f"The staff session cannot post announcements (GET {ANNOUNCE_PATH} answered "
            f"{status}): is the account staff?"
        )
    try:
        return client.token(ANNOUNCE_PATH)
    except SiteError as error:
        raise StartupError(f"The staff session cannot post announcements: {error}") from None
