from collections.abc import Iterator

import pytest

from chat.actions import messages as message_actions
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


@pytest.fixture
def post(ada, room, django_capture_on_commit_callbacks):
    def send(body):
        with django_capture_on_commit_callbacks(execute=True):
            return message_actions.message_post(room=room, author=ada, body=body, client_id=None)

    return send


@pytest.fixture
def work(run_tasks, django_capture_on_commit_callbacks):
    """Run the due tasks, with what they schedule on commit."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return run_tasks()

    return run
