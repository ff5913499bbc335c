from collections.abc import Iterator

import pytest

from chat.models import Membership, Room
from tests.servers import PageServer


@pytest.fixture
def linus(make_user):
    return make_user("linus")


@pytest.fixture
def secret(db, ada, grace):
    """A private room of ada's, with grace as the other member."""
    room = Room.objects.create(name="Secret", slug="secret", kind=Room.Kind.PRIVATE, created_by=ada)
    Membership.objects.bulk_create(
        [Membership(room=room, user=ada), Membership(room=room, user=grace)]
    )
    return room


def as_user(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def site() -> Iterator[PageServer]:
    """A local stand-in for the sites people link to, on 127.0.0.1."""
    with PageServer() as server:
        yield server


@pytest.fixture
def allow_local_site(settings) -> None:
    """The test site's address is loopback, which the previewer refuses unless allow-listed."""
    settings.LINK_PREVIEW_ALLOWED_NETWORKS = ["127.0.0.1/32"]
