from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
import pytest_asyncio
from asgiref.testing import ApplicationCommunicator as AsgiCommunicator
from channels.testing import ApplicationCommunicator, WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connections
from django.utils import timezone

from chat import limits as chat_limits
from chat.attachments import views as attachment_views
from chat.models import Room
from realtime import budgets, prepared
from realtime.presence import memory_store
from realtime.sockets import opening
from taskworker.worker import claim_and_run_one, new_worker
from tests.clocks import HEARTBEAT, TTL, ManualClock, this_loops_presence

User = get_user_model()


# Channels' test communicator gives the application one second for each step by default (the
# handshake, each frame, the close); on a loaded machine a step can take longer. This deadline
# only ends a test that would hang: no test waits for it to pass.
SOCKET_STEP_DEADLINE = 10.0


@pytest.fixture(autouse=True, scope="session")
def patient_test_sockets() -> Iterator[None]:
    steps = {
        WebsocketCommunicator.connect: (SOCKET_STEP_DEADLINE,),
        WebsocketCommunicator.receive_from: (SOCKET_STEP_DEADLINE,),
        WebsocketCommunicator.receive_json_from: (SOCKET_STEP_DEADLINE,),
        WebsocketCommunicator.disconnect: (1000, SOCKET_STEP_DEADLINE),
        ApplicationCommunicator.receive_output: (SOCKET_STEP_DEADLINE,),
        AsgiCommunicator.receive_output: (SOCKET_STEP_DEADLINE,),
    }
    before = {step: step.__defaults__ for step in steps}
    for step, defaults in steps.items():
        step.__defaults__ = defaults
    yield
    for step, defaults in before.items():
        step.__defaults__ = defaults


@pytest.fixture
def make_user(db: None) -> Callable[[str], AbstractBaseUser]:
    def make(username: str) -> AbstractBaseUser:
        return User.objects.create_user(username=username, password="pw-for-tests-only")

    return make


@pytest.fixture
def ada(make_user: Callable[[str], AbstractBaseUser]) -> AbstractBaseUser:
    return make_user("ada")


@pytest.fixture
def grace(make_user: Callable[[str], AbstractBaseUser]) -> AbstractBaseUser:
    return make_user("grace")


@pytest.fixture
def room(db: None) -> Room:
    return Room.objects.create(name="General", slug="general")


@pytest.fixture
def other_room(db: None) -> Room:
    return Room.objects.create(name="Random", slug="random")


@pytest.fixture(autouse=True)
def fresh_socket_limits() -> Iterator[None]:
    """Each test starts with no sockets counted and full connection-attempt, action, upload
    and sending buckets."""
    limits = (
        opening.connection_attempts,
        budgets.action_budgets,
        attachment_views.upload_buckets,
        chat_limits.send_buckets,
    )
    opening.open_sockets.clear()
    for buckets in limits:
        buckets.clear()
    yield
    opening.open_sockets.clear()
    for buckets in limits:
        buckets.clear()


@pytest.fixture(autouse=True)
def fresh_prepared_queries() -> Iterator[None]:
    """Prepared queries are built anew in each test, from what the test may have replaced."""
    prepared.forget_all()
    yield
    prepared.forget_all()


@pytest.fixture
def close_db_connections() -> Iterator[None]:
    """For async tests: Channels' database threads keep connections the test database needs
    closed before it can be dropped."""
    yield
    connections.close_all()


class PushLog:
    """Every push an action scheduled, as (group, html), in order; orders to leave a group
    as (group, "leave <group>: <html>")."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def __call__(self, group: str, html: str) -> None:
        self.sent.append((group, html))

    def leave(self, group: str, *, leave: str, html: str) -> None:
        self.sent.append((group, f"leave {leave}: {html}"))

    def groups(self) -> list[str]:
        return [group for group, _ in self.sent]

    def to(self, group: str) -> list[str]:
        return [html for sent_to, html in self.sent if sent_to == group]


@pytest.fixture
def pushes(monkeypatch: pytest.MonkeyPatch) -> PushLog:
    log = PushLog()
    monkeypatch.setattr("chat.events.push_html", log)
    monkeypatch.setattr("notifications.events.push_html", log)
    monkeypatch.setattr("accounts.events.push_html", log)
    monkeypatch.setattr("chat.events.push_leave", log.leave)
    for feature in ("previews", "attachments", "exports"):
        monkeypatch.setattr(f"chat.{feature}.events.push_html", log)
    return log


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """timezone.now() stands still for the test, so times computed from it are exact."""
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)
    return now


@pytest_asyncio.fixture
async def presence_clock() -> AsyncIterator[ManualClock]:
    """The presence tracker sockets on this loop use, on a clock the test moves: entries live
    TTL and are refreshed every HEARTBEAT of it; changes are announced at once."""
    memory_store.clear()
    clock = ManualClock()
    tracker = clock.tracker(memory_store, ttl=TTL, heartbeat=HEARTBEAT, announce_every=0)
    with this_loops_presence(tracker):
        yield clock
    memory_store.clear()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Uploads, thumbnails and exports of each test go to a directory of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def run_tasks(db: None) -> Callable[[], int]:
    """Run every task that is due, in this process and transaction, as a worker would; returns
    how many ran. Tasks that enqueue more tasks (retries) are run too, if they are due."""

    def run() -> int:
        worker = new_worker("tests")
        count = 0
        while claim_and_run_one(worker):
            count += 1
        return count

    return run
