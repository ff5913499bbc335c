"""Fixtures of the notification browser tests. The server's database lasts the whole session,
so each test starts with everything read and finds what it created by a unique token."""

from collections.abc import Iterator

import pytest

from tests.browser.conftest import Server
from tests.browser.notifications.pages import MARK_EVERYTHING_READ
from tests.servers import MAKE_STAFF, STAFF


# A known bug (see test_a_response_that_arrives_after_the_push_swaps_cleanly): when "Mark read"
# or "Dismiss" is answered after the push has replaced the button that was clicked, htmx finds
# no target for the response's out-of-band fragments and logs this. The page ends up right.
@pytest.fixture(scope="module", autouse=True)
def _leave_nothing_unread(server: Server) -> Iterator[None]:
    # Announcements reach everyone: later tests elsewhere must not find a banner on every page.
    yield
    server.manage("shell", "-c", MARK_EVERYTHING_READ)


@pytest.fixture(autouse=True)
def _start_with_everything_read(server: Server) -> None:
    server.manage("shell", "-c", MARK_EVERYTHING_READ)


@pytest.fixture(scope="module")
def staff(server: Server) -> str:
    server.manage("shell", "-c", MAKE_STAFF)
    return STAFF
