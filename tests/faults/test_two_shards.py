"""Scale-out with the real engine: REDIS_URL with two Redis hosts (channels-redis shards groups
and channels across them), three Daphne processes behind nginx, and the pageview worker.

Messages, presence, notifications and pageview counters cross every process; then the shard
that holds the room's group is killed mid-conversation and started again, empty, and every
page still ends up showing every message once, in order, resuming as the browser does.
"""

import asyncio
import re
import shutil
import uuid
from asyncio import FIRST_COMPLETED
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import psycopg
import pytest
import pytest_asyncio
from channels_redis.utils import _consistent_hash
from websockets.exceptions import ConnectionClosed

from chat.logic import room_group_name
from realtime.hub.messages import carrier
from realtime.sockets.closes import CLOSE_SERVICE_RESTART
from tests.faults.conftest import AppServer, RedisServer, Worker
from tests.faults.nginx import nginx_binary, nginx_in_front
from tests.faults.pages import Page, has_acknowledgement, has_bodies
from tests.integration.conftest import Server, service_unavailable
from tests.integration.test_pageviews_topology import VIEWS, view
from tests.servers import DEMO_PASSWORD, sign_in

pytestmark = [pytest.mark.faults, pytest.mark.asyncio]

QUICK = {
    "PRESENCE_HEARTBEAT_SECONDS": "0.5",
    "PRESENCE_TTL_SECONDS": "3",
    "PRESENCE_ANNOUNCE_SECONDS": "0.2",
    "PAGEVIEWS_FLUSH_SECONDS": "0.3",
}
ROOM = "general"
ROOM_PATH = f"/rooms/{ROOM}/"
PEOPLE = ("ada", "grace", "linus")
PRESENCE = re.compile(r'<section id="room-presence".*?</section>', re.DOTALL)
PERSON = re.compile(r'<li data-user="\d+">(?:<a [^>]*>)?([^<]+)(?:</a>)?</li>')
TOAST = "<strong>ada</strong> mentioned you"
TAG = re.compile(r"<[^>]+>")
# How long a page may take to show everything after the shard is back: the hub retries the
# layer with backoff up to 10 s (realtime.hub), then the page reconnects and resumes.
RECOVERY_SECONDS = 30.0


@dataclass
class Shards:
    servers: list[RedisServer]

    @property
    def url(self) -> str:
        return ",".join(server.url for server in self.servers)


@pytest.fixture
def shards(tmp_path: Path) -> Iterator[Shards]:
    if shutil.which("redis-server") is None:
        service_unavailable("redis-server", FileNotFoundError("not installed"))
    servers = []
    try:
        for index in range(2):
            workdir = tmp_path / f"shard-{index}"
            workdir.mkdir()
            servers.append(RedisServer(workdir=workdir))
            servers[-1].start()
        yield Shards(servers)
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def nginx() -> str:
    binary = nginx_binary()
    if binary is None:
        service_unavailable("nginx", FileNotFoundError("not installed (apt-get install nginx)"))
    return binary


def presence_shown(page: Page) -> set[str]:
    """The people the room's "Here now" list shows, as of the last frame that had it."""
    shown: set[str] = set()
    for frame in page.frames:
        for section in PRESENCE.findall(frame):
            shown = set(PERSON.findall(section))
    return shown


def views_shown(page: Page) -> int | None:
    counts = [int(m.replace(",", "")) for frame in page.frames for m in VIEWS.findall(frame)]
    return counts[-1] if counts else None


def room_id(database_url: str, slug: str) -> int:
    with psycopg.connect(database_url) as connection:
        row = connection.execute("SELECT id FROM chat_room WHERE slug = %s", [slug]).fetchone()
    assert row is not None
    return int(row[0])


async def follow(
    page: Page, edge: Server, done: Callable[[Page], bool], *, what: str
) -> list[int | None]:
    """Read until `done`, reconnecting through the proxy whenever the server closes the socket
    (the page resumes from its cursor, as app.js does); the close codes seen."""
    closes: list[int | None] = []
    async with asyncio.timeout(RECOVERY_SECONDS):
        while True:
            try:
                await page.receive_until(done, what=what)
                return closes
            except ConnectionClosed:
                assert page.socket is not None
                received = page.socket.protocol.close_rcvd
                closes.append(received.code if received is not None else None)
                await page.open(edge)


@dataclass
class ScaledOut:
    env: dict[str, str]
    shards: Shards
    servers: list[AppServer]
    worker: Worker
    edge: Server  # nginx
    sessions: dict[str, str]
    pages: dict[str, Page]  # one per person, each on another process, in the room


@pytest_asyncio.fixture
async def scaled_out(
    fault_env: dict[str, str],
    shards: Shards,
    nginx: str,
    app_servers: Callable[[dict[str, str]], AppServer],
    workers: Callable[[dict[str, str]], Worker],
    tmp_path: Path,
) -> AsyncIterator[ScaledOut]:
    env = {**fault_env, **QUICK, "REDIS_URL": shards.url}
    worker = workers(env)
    # One after another: three interpreters starting at once on a busy two-core machine can
    # take longer than the start-up deadline.
    servers = [await asyncio.to_thread(app_servers, env) for _ in range(3)]
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    with nginx_in_front(nginx, ports=[s.port for s in servers], prefix=prefix) as port:
        edge = Server(port=port, log=prefix / "error.log")
        sessions = {
            name: await asyncio.to_thread(sign_in, edge.origin, name, DEMO_PASSWORD)
            for name in PEOPLE
        }
        pages = {name: Page(session=sessions[name], path=ROOM_PATH) for name in PEOPLE}
        for page in pages.values():
            await page.open(edge)
        # One page on each process: nginx sends each new socket to the least busy one.
        assert sorted(str(page.upstream) for page in pages.values()) == sorted(
            f"127.0.0.1:{server.port}" for server in servers
        )
        try:
            yield ScaledOut(env, shards, servers, worker, edge, sessions, pages)
        finally:
            await asyncio.gather(*(page.close() for page in pages.values()))


async def test_messages_presence_notifications_and_counters_cross_every_process(
    scaled_out: ScaledOut,
) -> None:
    pages, edge, sessions = scaled_out.pages, scaled_out.edge, scaled_out.sessions
    ada, grace, linus = pages.values()
    token = uuid.uuid4().hex

    # Presence: every page lists all three people, whichever process holds them.
    for page in pages.values():
        await page.receive_until(
            lambda p: presence_shown(p) == set(PEOPLE), what="all three here now"
        )

    # Messages: each person posts on their process; every page shows all three.
    for name, page in pages.items():
        await page.post(f"{token} from {name}")
    for page in pages.values():
        await page.receive_until(has_bodies(token, 3), what="the three messages")

    # Notifications: a mention on ada's process reaches grace and linus on theirs.
    await ada.post(f"@grace @linus {token} mention")
    for page in (grace, linus):
        await page.receive_until(lambda p: any(TOAST in f for f in p.frames), what="the toast")
    assert not any(TOAST in frame for frame in ada.frames)

    # Pageview counters: views served by any process reach the pages on every process,
    # through the separate worker.
    start = max(views_shown(page) or 0 for page in pages.values())
    for name in PEOPLE:
        await asyncio.to_thread(view, edge, ROOM_PATH, sessions[name])
    for page in pages.values():
        await page.receive_until(
            lambda p: (views_shown(p) or 0) >= start + 3, what="three more views"
        )
        assert views_shown(page) == start + 3

    # The three posts were in flight together, so their ids (the page's order) are the order
    # the database saved them in; the mention came after all three.
    posted = sorted(f"{token} from {name}" for name in PEOPLE)
    for page in pages.values():
        await page.receive_until(has_bodies(token, 4), what="the mention, as a message")
        *firsts, last = [TAG.sub("", body) for body in page.bodies_with(token)]
        assert sorted(firsts) == posted
        assert last == f"@grace @linus {token} mention"
    assert scaled_out.worker.alive(), scaled_out.worker.tail()


def shard_of(name: str, shards: Shards) -> int:
    """The shard a group, or a process's channel (by its part up to the "!"), lives on."""
    key = name[: name.find("!") + 1] if "!" in name else name
    return int(_consistent_hash(key, len(shards.servers)))


async def closed_within(page: Page, seconds: float) -> int | None:
    """The close code if the server closes `page`'s socket within `seconds`, else None."""
    assert page.socket is not None
    try:
        async with asyncio.timeout(seconds):
            while True:
                page.take(await page.socket.recv(decode=True))
    except TimeoutError:
        return None
    except ConnectionClosed:
        received = page.socket.protocol.close_rcvd
        return received.code if received is not None else 0


async def test_pages_on_processes_reading_from_a_restarted_shard_resume_with_everything(
    scaled_out: ScaledOut,
) -> None:
    pages, edge, shards = scaled_out.pages, scaled_out.edge, scaled_out.shards
    _, grace, linus = pages.values()
    token = uuid.uuid4().hex
    await linus.post(f"{token} before")
    for page in pages.values():
        await page.receive_until(has_bodies(token, 1), what="the first message")

    # Each process subscribed its own channel to the room's group. The shard that restarts is
    # the one most of them read from (each reads from one, chosen by its random channel name).
    group = carrier(room_group_name(room_id(scaled_out.env["DATABASE_URL"], ROOM)))
    with shards.servers[shard_of(group, shards)].client() as client:
        members = cast(list[bytes], client.zrange(f"asgi:group:{group}", 0, -1))
    read_from = Counter(shard_of(member.decode(), shards) for member in members)
    assert read_from.total() == 3
    index, readers = read_from.most_common(1)[0]
    assert readers >= 2
    shard = shards.servers[index]

    await asyncio.to_thread(shard.stop)
    during = [await grace.post(f"{token} during {n}") for n in range(2)]
    for client_id in during:
        await grace.receive_until(has_acknowledgement(client_id), what="an acknowledgement")
    await asyncio.to_thread(shard.start)

    waits = {name: asyncio.create_task(closed_within(page, 25.0)) for name, page in pages.items()}
    closed: dict[str, int | None] = {}
    try:
        async with asyncio.timeout(25.0):
            while len(closed) < readers:
                done, _ = await asyncio.wait(waits.values(), return_when=FIRST_COMPLETED)
                for name, wait in list(waits.items()):
                    if wait in done:
                        closed[name] = wait.result()
                        del waits[name]
    finally:
        for wait in waits.values():
            wait.cancel()
    assert list(closed.values()) == [CLOSE_SERVICE_RESTART] * readers

    expected = [f"{token} {n}" for n in ("before", "during 0", "during 1")]
    for name in closed:
        page = pages[name]
        await page.open(edge)
        # The lost host's probe may ask the page to resume once more (1012) while it is back.
        again = await follow(page, edge, has_bodies(token, 3), what="what was sent meanwhile")
        assert set(again) <= {CLOSE_SERVICE_RESTART}, again
        assert page.bodies_with(token) == expected, name
        assert page.arrived_again() == [], f"{name}'s page was sent a message again"


async def test_a_shard_restarted_mid_conversation_loses_nothing(scaled_out: ScaledOut) -> None:
    pages, edge, shards = scaled_out.pages, scaled_out.edge, scaled_out.shards
    _, grace, linus = pages.values()
    token = uuid.uuid4().hex
    await linus.post(f"{token} before")
    for page in pages.values():
        await page.receive_until(has_bodies(token, 1), what="the first message")

    # The shard holding the room's group goes away mid-conversation, and comes back empty.
    group = carrier(room_group_name(room_id(scaled_out.env["DATABASE_URL"], ROOM)))
    shard = shards.servers[shard_of(group, shards)]
    await asyncio.to_thread(shard.stop)
    during = [await grace.post(f"{token} during {n}") for n in range(2)]
    for client_id in during:
        await grace.receive_until(has_acknowledgement(client_id), what="an acknowledgement")
    await asyncio.to_thread(shard.start)

    # Pages on a process that read from the lost shard are asked to resume (1012) and do;
    # every page must end up with what was sent meanwhile, and with what is sent after.
    for page in pages.values():
        await follow(page, edge, has_bodies(token, 3), what="the messages sent meanwhile")
    after = await linus.post(f"{token} after")
    await linus.receive_until(has_acknowledgement(after), what="the acknowledgement")
    for page in pages.values():
        await follow(page, edge, has_bodies(token, 4), what="the message after")

    expected = [f"{token} {n}" for n in ("before", "during 0", "during 1", "after")]
    for name, page in pages.items():
        assert page.bodies_with(token) == expected, name
        assert page.arrived_again() == [], f"{name}'s page was sent a message again"
