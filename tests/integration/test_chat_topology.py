"""Chat across two server processes that share PostgreSQL and the Redis channel layer.

The client is a plain WebSocket client speaking the page socket's protocol, as the browser
would: JSON frames in, HTML fragments out.
"""

import asyncio
import contextlib
import html
import http.client
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.integration.conftest import Server, Topology, on_every_server
from tests.servers import LOCALHOST

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

# Generous bounds for what should happen, a short one for what should not.
TIMEOUT = 10.0
QUIET_PERIOD = 1.0

MESSAGE_ID = re.compile(r'id="message-(\d+)"')
# The reply to an accepted send: the composer's error line, empty.
ACKNOWLEDGEMENT = re.compile(r'<p id="composer-error"[^>]*>\s*</p>')


@contextlib.asynccontextmanager
async def page_socket(
    server: Server, *, session: str | None, room: str | None = None, origin: str | None = None
) -> AsyncIterator[ClientConnection]:
    headers = {"Origin": origin or server.origin}
    if session is not None:
        headers["Cookie"] = f"sessionid={session}"
    query = f"?room={room}" if room else ""
    async with connect(
        f"{server.socket_base}/ws/{query}",
        additional_headers=headers,
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
    ) as socket:
        yield socket


async def receive_until(
    socket: ClientConnection, done: Callable[[list[str]], bool], *, what: str
) -> list[str]:
    """Every frame received until `done` accepts the frames so far.

    Sockets also receive frames these tests do not look at (e.g. the notification bell's
    state, sent on connect), so callers pick theirs out of the list.
    """
    frames: list[str] = []
    try:
        async with asyncio.timeout(TIMEOUT):
            while not done(frames):
                frames.append(await socket.recv(decode=True))
    except TimeoutError:
        raise AssertionError(f"no {what} within {TIMEOUT} s; received {frames!r}") from None
    return frames


async def receive_for(socket: ClientConnection, seconds: float = QUIET_PERIOD) -> list[str]:
    """Every frame received within `seconds`: for checking what must not arrive."""
    frames: list[str] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while True:
                frames.append(await socket.recv(decode=True))
    return frames


def chat_send(body: str, client_id: uuid.UUID) -> str:
    return json.dumps({"action": "chat.send", "body": body, "client_id": str(client_id)})


def unique_body() -> tuple[str, str]:
    """A message with markup in it, and how it must appear in the page."""
    token = uuid.uuid4().hex
    body = f"<b>{token}</b> & friends"
    return body, html.escape(body, quote=False)


def is_acknowledgement(frame: str) -> bool:
    return ACKNOWLEDGEMENT.search(frame) is not None


def acknowledged(frames: list[str]) -> bool:
    return any(map(is_acknowledgement, frames))


def containing(text: str) -> Callable[[list[str]], bool]:
    return lambda frames: any(text in frame for frame in frames)


def acknowledged_and_containing(text: str) -> Callable[[list[str]], bool]:
    return lambda frames: acknowledged(frames) and containing(text)(frames)


def message_ids(frames: list[str], text: str) -> list[int]:
    """The id of each message pushed in `frames` whose body contains `text`."""
    return [
        int(match.group(1))
        for frame in frames
        if text in frame
        for match in MESSAGE_ID.finditer(frame)
    ]


def get_page(server: Server, path: str, *, session: str) -> str:
    connection = http.client.HTTPConnection(LOCALHOST, server.port, timeout=TIMEOUT)
    try:
        connection.request("GET", path, headers={"Cookie": f"sessionid={session}"})
        response = connection.getresponse()
        page = response.read().decode()
    finally:
        connection.close()
    assert response.status == 200, f"GET {path} answered {response.status}"
    return page


async def test_message_sent_through_one_process_reaches_a_socket_on_the_other(
    topology: Topology,
) -> None:
    body, escaped = unique_body()
    async with (
        page_socket(topology.a, session=topology.sessions["ada"], room="general") as sender,
        page_socket(topology.b, session=topology.sessions["grace"], room="general") as reader,
    ):
        await sender.send(chat_send(body, uuid.uuid4()))

        pushed = await receive_until(reader, containing(escaped), what="push on process B")
        sent = await receive_until(
            sender, acknowledged_and_containing(escaped), what="acknowledgement and echo on A"
        )

    push = pushed[-1]
    assert body not in push, "the body was pushed unescaped"
    assert 'hx-swap-oob="beforeend:#messages"' in push
    (message_id,) = message_ids(pushed, escaped)
    assert message_ids(sent, escaped) == [message_id]


@on_every_server
async def test_messages_posted_on_one_socket_reach_the_other_once_and_in_order(
    topology: Topology,
) -> None:
    token = uuid.uuid4().hex
    bodies = [f"{token} message {n}" for n in range(5)]
    async with (
        page_socket(topology.a, session=topology.sessions["ada"], room="general") as sender,
        page_socket(topology.b, session=topology.sessions["grace"], room="general") as reader,
    ):
        for socket in (sender, reader):  # joined: the bell's state comes once it is ready
            await receive_until(socket, containing('id="bell"'), what="the bell's state")
        for body in bodies:  # at once, without waiting for the acknowledgements
            await sender.send(chat_send(body, uuid.uuid4()))
        frames = await receive_until(reader, containing(bodies[-1]), what="the last message")
        frames += await receive_for(reader)  # anything sent again would arrive meanwhile

    pushed = [frame for frame in frames if token in frame]
    assert [body for frame in pushed for body in bodies if f"{body}<" in frame] == bodies
    ids = message_ids(pushed, token)
    assert len(ids) == len(bodies)
    assert ids == sorted(set(ids))


async def test_a_socket_in_another_room_hears_nothing_of_the_message(topology: Topology) -> None:
    body, escaped = unique_body()
    async with (
        page_socket(topology.a, session=topology.sessions["ada"], room="general") as sender,
        page_socket(topology.b, session=topology.sessions["grace"], room="general") as reader,
        page_socket(topology.b, session=topology.sessions["linus"], room="random") as elsewhere,
    ):
        await sender.send(chat_send(body, uuid.uuid4()))
        # Once process B has relayed the message to its room, it has had its chance to misroute.
        pushed = await receive_until(reader, containing(escaped), what="push on process B")
        (message_id,) = message_ids(pushed, escaped)
        heard = await receive_for(elsewhere)

    assert not [
        frame for frame in heard if escaped in frame or f'id="message-{message_id}"' in frame
    ]


async def test_anonymous_socket_is_closed_as_unauthenticated(topology: Topology) -> None:
    async with page_socket(topology.b, session=None, room="general") as anonymous:
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(TIMEOUT):
                await anonymous.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_socket_from_a_foreign_origin_is_refused(topology: Topology) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with page_socket(
            topology.b,
            session=topology.sessions["ada"],
            room="general",
            origin="http://evil.example",
        ):
            pass
    assert refused.value.response.status_code == 403


async def test_sent_message_is_in_the_room_page_served_by_the_other_process(
    topology: Topology,
) -> None:
    body, escaped = unique_body()
    async with page_socket(topology.a, session=topology.sessions["ada"], room="general") as sender:
        await sender.send(chat_send(body, uuid.uuid4()))
        # The acknowledgement comes after the message was committed.
        sent = await receive_until(
            sender, acknowledged_and_containing(escaped), what="acknowledgement and echo on A"
        )
    (message_id,) = message_ids(sent, escaped)

    page = await asyncio.to_thread(
        get_page, topology.b, "/rooms/general/", session=topology.sessions["grace"]
    )
    assert f'id="message-{message_id}"' in page
    assert escaped in page


async def test_retried_send_makes_one_message(topology: Topology) -> None:
    body, escaped = unique_body()
    frame = chat_send(body, uuid.uuid4())
    async with (
        page_socket(topology.a, session=topology.sessions["ada"], room="general") as sender,
        page_socket(topology.b, session=topology.sessions["grace"], room="general") as reader,
    ):
        await sender.send(frame)
        pushed = await receive_until(reader, containing(escaped), what="push on process B")
        (message_id,) = message_ids(pushed, escaped)
        seen = await receive_until(
            sender, acknowledged_and_containing(escaped), what="acknowledgement and echo on A"
        )

        # The same send again, on the same socket (a double submit) ...
        await sender.send(frame)
        seen += await receive_until(sender, acknowledged, what="acknowledgement of the retry")
        # ... and after reconnecting to the other process, as a browser does after a drop.
        async with page_socket(
            topology.b, session=topology.sessions["ada"], room="general"
        ) as reconnected:
            await reconnected.send(frame)
            seen += await receive_until(
                reconnected, acknowledged, what="acknowledgement of the retry on B"
            )
            for frames in await asyncio.gather(*map(receive_for, [reconnected, reader, sender])):
                seen += frames

    # Replays of the same message would be harmless (they swap in by id); a second one is not.
    assert set(message_ids(seen, escaped)) == {message_id}
    page = await asyncio.to_thread(
        get_page, topology.b, "/rooms/general/", session=topology.sessions["grace"]
    )
    assert page.count(escaped) == 1


async def test_sends_at_once_with_a_resend_among_them_save_each_message_once(
    topology: Topology,
) -> None:
    """Sends that arrive together are saved in one transaction (chat.actions.batching); a
    resent client id among them gets its first message, and the others are saved."""
    token = uuid.uuid4().hex
    first = chat_send(f"{token} first", uuid.uuid4())
    sessions = topology.sessions
    async with (
        page_socket(topology.a, session=sessions["ada"], room="general") as ada,
        page_socket(topology.a, session=sessions["grace"], room="general") as grace,
        page_socket(topology.a, session=sessions["linus"], room="general") as linus,
        page_socket(topology.b, session=sessions["grace"], room="general") as reader,
    ):
        for socket in (ada, grace, linus, reader):
            await receive_until(socket, containing('id="bell"'), what="the bell's state")
        await ada.send(first)
        await receive_until(ada, acknowledged, what="acknowledgement of the first send")

        await asyncio.gather(
            grace.send(chat_send(f"{token} from grace", uuid.uuid4())),
            ada.send(first),
            linus.send(chat_send(f"{token} from linus", uuid.uuid4())),
        )
        for socket in (ada, grace, linus):
            await receive_until(socket, acknowledged, what="acknowledgement of each send")
        frames = await receive_until(
            reader,
            lambda frames: all(
                containing(f"{token} from {name}")(frames) for name in ("grace", "linus")
            ),
            what="both new messages on process B",
        )
        frames += await receive_for(reader)

    assert len(set(message_ids(frames, token))) == 3  # first (pushed again), grace's, linus's
    page = await asyncio.to_thread(
        get_page, topology.b, "/rooms/general/", session=sessions["grace"]
    )
    assert [page.count(f"{token} {what}") for what in ("first", "from grace", "from linus")] == [
        1,
        1,
        1,
    ]
