"""Live delivery that cannot go silent (realtime.hub): bad messages in the layer, a layer that
loses its keys, a hub channel at capacity, Redis restarting in the middle of a burst. Two
server processes on the test's own redis-server; each page is checked for what a person would
see: every message once, in order, live again within seconds.
"""

import asyncio
import contextlib
import http.client
import json
import re
import signal
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial

import pytest
from channels_redis.core import RedisChannelLayer
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from realtime.sockets.closes import CLOSE_SERVICE_RESTART
from tests.faults.conftest import (
    METRICS_TOKEN,
    AppServer,
    Conversation,
    RedisServer,
)
from tests.faults.pages import ACKNOWLEDGED, TIMEOUT, Page, has_acknowledgement, has_bodies
from tests.faults.test_two_shards import closed_within
from tests.realtime.hub.test_failures import MALFORMED
from tests.servers import LOCALHOST
from tests.waiting import eventually

pytestmark = [pytest.mark.faults, pytest.mark.asyncio]

UNLIMITED = {
    "CHAT_SEND_RATE": "100000",
    "CHAT_SEND_BURST": "100000",
    "SOCKET_FRAME_RATE": "100000",
    "SOCKET_FRAME_BURST": "100000",
    "SOCKET_CONNECT_RATE": "1000",
    "SOCKET_CONNECT_BURST": "1000",
}


def counter(server: AppServer, name: str) -> float:
    """A counter of the process's /metrics (its sum over labels), 0 if absent."""
    connection = http.client.HTTPConnection(LOCALHOST, server.port, timeout=10)
    try:
        connection.request("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        text = connection.getresponse().read().decode()
    finally:
        connection.close()
    pattern = rf"^{name}_total(?:{{[^}}]*}})? (\S+)$"
    return sum(float(value) for value in re.findall(pattern, text, re.MULTILINE))


async def both_ways(conversation: Conversation, label: str, count: int) -> None:
    """A message each way is shown live on both pages; `count` messages with the token now."""
    _, _, writer, reader, token = conversation
    await writer.post(f"{token} {label} 1")
    await reader.receive_until(has_bodies(token, count - 1), what=f"{label}: live, one way")
    await reader.post(f"{token} {label} 2")
    await writer.receive_until(has_bodies(token, count), what=f"{label}: live, the other way")
    await reader.receive_until(has_bodies(token, count), what=f"{label}: the reply's own echo")


async def test_malformed_messages_in_every_group_leave_both_processes_live(
    redis_server: RedisServer, conversation: Callable[..., Awaitable[Conversation]]
) -> None:
    talk = await conversation(reader_on="b")
    a, b, writer, reader, token = talk
    client = redis_server.client()
    groups = {
        key.decode().removeprefix("asgi:group:"): int(str(client.zcard(key)))
        for key in client.scan_iter("asgi:group:*")
    }
    # Rooms and their activity, the site's groups, the people carriers (and each process's
    # probe group): every kind of group a process subscribes to.
    assert {name.split(".")[0] for name in groups} >= {"chat", "site", "users"}
    layer = RedisChannelLayer(hosts=[redis_server.url])
    for group in groups:
        for message in MALFORMED:
            await layer.group_send(group, message)
    await layer.close_pools()

    await both_ways(talk, "after", 3)
    # Each hub counted every bad message it received; no socket was closed for them.
    received = sum(groups.values()) * len(MALFORMED)
    failures = await asyncio.to_thread(lambda: counter(a, "relay_hub_failures"))
    failures += await asyncio.to_thread(lambda: counter(b, "relay_hub_failures"))
    assert failures == received
    assert (writer.connections, reader.connections) == (1, 1)
    await asyncio.gather(writer.close(), reader.close())
    assert reader.bodies_with(token) == [f"{token} before", f"{token} after 1", f"{token} after 2"]


async def test_keys_flushed_under_open_pages_are_live_again_within_seconds(
    redis_server: RedisServer, conversation: Callable[..., Awaitable[Conversation]]
) -> None:
    talk = await conversation(
        reader_on="b", env={"HUB_PROBE_SECONDS": "1", "HUB_PROBE_DEADLINE": "1"}
    )
    _, b, writer, reader, token = talk

    flushed = time.monotonic()
    await asyncio.to_thread(redis_server.client().flushall)
    # Sent while nobody is subscribed: saved and acknowledged, pushed to nobody.
    during = await writer.post(f"{token} during")
    await writer.receive_until(has_acknowledgement(during), what="an acknowledgement")
    # Each process finds its probe missing, subscribes again and asks its pages to resume.
    codes = await asyncio.gather(writer.closed_with(), reader.closed_with())
    recovered = time.monotonic() - flushed
    assert list(codes) == [CLOSE_SERVICE_RESTART, CLOSE_SERVICE_RESTART]
    print(f"flushed keys: pages asked to resume after {recovered:.1f} s")
    assert recovered < 6

    await reopened_with_everything(talk)
    assert await asyncio.to_thread(lambda: counter(b, "relay_hub_probes_lost")) == 1


async def reopened_with_everything(talk: Conversation) -> None:
    """Both pages reopen (resuming), get the message sent meanwhile, talk both ways again, and
    show every message once, in order."""
    a, b, writer, reader, token = talk
    await writer.open(a.server)
    await reader.open(b.server)
    await reader.receive_until(has_bodies(token, 2), what="the message sent meanwhile")
    await both_ways(talk, "after", 4)
    await asyncio.gather(writer.close(), reader.close())
    expected = [f"{token} {n}" for n in ("before", "during", "after 1", "after 2")]
    for page in (writer, reader):
        assert page.bodies_with(token) == expected
        assert page.arrived_again() == []


async def test_subscriptions_refused_after_a_restart_are_retried_until_all_are_back(
    redis_server: RedisServer, conversation: Callable[..., Awaitable[Conversation]]
) -> None:
    talk = await conversation(reader_on="b")
    a, b, writer, reader, token = talk
    # Redis comes back empty and refusing writes (out of memory): every process can read its
    # channel again, but no group_add succeeds.
    await asyncio.to_thread(redis_server.stop)
    await asyncio.to_thread(
        redis_server.start, "--maxmemory", "1", "--maxmemory-policy", "noeviction"
    )

    def refused(server: AppServer) -> bool:
        log = server.log.read_text(errors="replace")
        return "Channel layer still unavailable" in log and "OutOfMemoryError" in log

    for server in (a, b):
        try:
            await asyncio.to_thread(eventually, partial(refused, server), what="refusals")
        except AssertionError as error:
            raise AssertionError(server.log_tail()) from error
    during = await writer.post(f"{token} during")
    await writer.receive_until(has_acknowledgement(during), what="an acknowledgement")
    await asyncio.to_thread(redis_server.client().config_set, "maxmemory", "0")

    # Retried until every group is back; only then the pages resume, and live delivery works.
    codes = await asyncio.gather(writer.closed_with(), reader.closed_with())
    assert list(codes) == [CLOSE_SERVICE_RESTART, CLOSE_SERVICE_RESTART]
    await reopened_with_everything(talk)


async def test_a_hub_channel_over_capacity_makes_its_page_catch_up_without_reload(
    conversation: Callable[..., Awaitable[Conversation]],
) -> None:
    talk = await conversation(
        reader_on="b",
        # Hub channels hold 5 messages (the sender applies the capacity); probes are off,
        # so only the sequence numbers can tell.
        env={**UNLIMITED, "HUB_CHANNEL_CAPACITY": "5", "HUB_PROBE_SECONDS": "0"},
    )
    _, b, writer, reader, token = talk
    assert b.process is not None

    b.process.send_signal(signal.SIGSTOP)  # B stalls: its channel fills up, the rest is dropped
    try:
        for n in range(20):
            sent = await writer.post(f"{token} {n}")
            await writer.receive_until(has_acknowledgement(sent), what=f"acknowledging {n}")
    finally:
        b.process.send_signal(signal.SIGCONT)
    # The next push that reaches B shows it the numbers it never got. B may still be draining
    # what its channel held, so a push right after SIGCONT can be dropped too: post until one
    # lands (each is saved, so each is owed to the page).
    afters: list[str] = []
    code = None
    while code is None and len(afters) < 10:
        afters.append(f"after {len(afters)}")
        await writer.post(f"{token} {afters[-1]}")
        code = await closed_within(reader, 2.0)
    assert code == CLOSE_SERVICE_RESTART
    await reader.open(b.server)
    total = 21 + len(afters)
    await reader.receive_until(has_bodies(token, total), what="everything, after resuming")
    await asyncio.gather(writer.close(), reader.close())
    expected = [f"{token} {n}" for n in ("before", *range(20), *afters)]
    assert reader.bodies_with(token) == expected
    assert reader.arrived_again() == []
    assert reader.connections == 2  # resumed once, without reloading
    # Found once, on the room's stream, by the push that followed the lost ones.
    assert await asyncio.to_thread(lambda: counter(b, "relay_hub_gaps")) == 1


class Follower:
    """Reads a page's socket all the time, and reopens it (resuming) whenever it closes, as
    htmx and app.js do; remembers the acknowledgements it saw."""

    def __init__(self, page: Page, server: AppServer) -> None:
        self.page = page
        self.server = server
        self.acknowledged: set[str] = set()
        self.closes: list[int | None] = []
        self.changed = asyncio.Event()
        self.task = asyncio.create_task(self.follow())

    async def follow(self) -> None:
        while True:
            try:
                if self.page.socket is None:
                    await self.page.open(self.server.server)
                    self.changed.set()
                frame = await self.page.socket.recv(decode=True)  # type: ignore[union-attr]
            except (ConnectionClosed, InvalidHandshake, OSError, TimeoutError) as closed:
                socket, self.page.socket = self.page.socket, None
                received = socket.protocol.close_rcvd if socket is not None else None
                self.closes.append(received.code if received is not None else None)
                self.changed.set()
                if not isinstance(closed, ConnectionClosed):
                    await asyncio.sleep(0.2)  # the page's reconnect delay, not a wait for state
                continue
            self.page.take(frame)
            self.acknowledged.update(m.group(1) for m in ACKNOWLEDGED.finditer(frame))
            self.changed.set()

    async def until(self, done: Callable[[], bool], *, what: str) -> None:
        try:
            async with asyncio.timeout(TIMEOUT):
                while not done():
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            raise AssertionError(f"no {what} within {TIMEOUT} s") from None

    async def post(self, body: str) -> None:
        """Send until acknowledged; sent again on each new socket, as app.js does."""
        client_id = str(uuid.uuid4())
        frame = json.dumps({"action": "chat.send", "body": body, "client_id": client_id})
        while client_id not in self.acknowledged:
            await self.until(lambda: self.page.socket is not None, what="an open socket")
            socket, connection = self.page.socket, self.page.connections
            with contextlib.suppress(ConnectionClosed):
                await socket.send(frame)  # type: ignore[union-attr]

            def answered_or_reopened(connection: int = connection) -> bool:
                return client_id in self.acknowledged or self.page.connections != connection

            await self.until(answered_or_reopened, what=f"an acknowledgement of {body!r}")

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.page.close()


async def test_every_acknowledged_message_of_a_burst_through_a_redis_restart_is_shown_once(
    redis_server: RedisServer, conversation: Callable[..., Awaitable[Conversation]]
) -> None:
    burst, stop_at, start_at = 500, 150, 300
    talk = await conversation(reader_on="b", env={**UNLIMITED, "CHAT_RESUME_LIMIT": "1000"})
    a, b, writer, reader, token = talk
    writing, reading = Follower(writer, a), Follower(reader, b)
    try:
        for n in range(burst):
            if n == stop_at:
                await asyncio.to_thread(redis_server.stop)
            if n == start_at:
                await asyncio.to_thread(redis_server.start)
            await writing.post(f"{token} {n}")
        for page, follower in ((writer, writing), (reader, reading)):

            def complete(page: Page = page) -> bool:
                return len(page.bodies_with(token)) == burst + 1

            await follower.until(complete, what="every message of the burst")
    finally:
        await asyncio.gather(writing.stop(), reading.stop())

    expected = [f"{token} before", *(f"{token} {n}" for n in range(burst))]
    for page, follower in ((writer, writing), (reader, reading)):
        assert page.bodies_with(token) == expected
        assert page.arrived_again() == []
        # Told to resume once, when the layer came back; a code each time it closed.
        assert set(follower.closes) == {CLOSE_SERVICE_RESTART}
    print(f"closes: writer {writing.closes}, reader {reading.closes}")
