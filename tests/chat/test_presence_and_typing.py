"""Who is in a room, and who is typing: RoomPresencePart of the page socket."""

import asyncio
import json
import re
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from chat import consumers, logic
from realtime.hub.messages import push_event
from realtime.presence import memory_store
from tests.clocks import HEARTBEAT, TTL

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_connections", "presence_clock", "quick_typing"),
]

ROOM_PAGE = "/ws/?room=general&path=%2Frooms%2Fgeneral%2F"
PRESENCE = re.compile(r'<section id="room-presence".*?</section>', re.S)
TYPING = '<p id="typing-{}" class="typing"'


# Longer than any test: a second signal within it is always "too soon", whatever the machine's
# pace; tests move past it by aging the typist's bucket (`throttle_passes`).
THROTTLE = 60.0


@pytest.fixture
def quick_typing(settings):
    settings.CHAT_TYPING_THROTTLE = THROTTLE
    settings.CHAT_TYPING_SHOW = 3.0
    consumers.typing_buckets.clear()
    yield
    consumers.typing_buckets.clear()


def throttle_passes(user, room):
    consumers.typing_buckets.buckets[f"{user.pk}:{room.id}"].updated -= THROTTLE


async def handled_so_far(socket):
    """Once `socket` has handled every frame sent to it before: a frame it refuses, answered."""
    await socket.send_to(text_data=json.dumps({"action": "test.barrier"}))
    await frames_until(socket, lambda fs: any("test.barrier" in f for f in fs))


async def quiet(socket, room, clock):
    """Once `socket` has its catch-up and every presence change so far, and has read them."""
    await handled_so_far(socket)
    await clock.settle()
    await frames_before_marker(socket, room)


async def frames_before_marker(socket, room):
    """What `socket` receives before a marker pushed to the room now: had anything been pushed
    to the room before, it would be among them."""
    group = logic.room_group_name(room.id)
    await get_channel_layer().group_send(group, push_event(group, '<p id="marker"></p>'))
    frames = await frames_until(socket, lambda fs: any('id="marker"' in f for f in fs))
    return frames[:-1]


def router():
    from realtime.routing import websocket_urlpatterns

    return URLRouter(websocket_urlpatterns)


async def open_room(user, path=ROOM_PAGE):
    communicator = WebsocketCommunicator(router(), path)
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def frames_until(communicator, done, *, within=3.0):
    frames: list[str] = []
    async with asyncio.timeout(within):
        while not done(frames):
            frames.append(await communicator.receive_from())
    return frames


def people_shown(frames):
    """The names in the last room presence fragment received."""
    shown = [m.group(0) for frame in frames for m in PRESENCE.finditer(frame)]
    if not shown:
        return None
    return re.findall(r'<li data-user="\d+">(?:<a [^>]*>)?([^<]+)(?:</a>)?</li>', shown[-1])


def showing(*names):
    return lambda frames: people_shown(frames) == list(names)


def typing_frame():
    return json.dumps({"action": "chat.typing"})


async def test_people_in_the_room_see_each_other_arrive_and_leave(ada, grace, room):
    ada_tab = await open_room(ada)
    await frames_until(ada_tab, showing("ada"))
    grace_tab = await open_room(grace)
    await frames_until(grace_tab, showing("ada", "grace"))
    await frames_until(ada_tab, showing("ada", "grace"))

    await grace_tab.disconnect()
    await frames_until(ada_tab, showing("ada"))
    await ada_tab.disconnect()


async def test_a_crowded_room_names_a_few_and_counts_everyone(
    ada, grace, make_user, room, monkeypatch
):
    # Every change is pushed to everyone here: the list must not grow with the room.
    monkeypatch.setattr(logic, "PRESENCE_NAMED", 2)
    hedy = await database_sync_to_async(make_user)("hedy")
    tabs = [await open_room(ada), await open_room(grace), await open_room(hedy)]
    # Named: the first two to have signed up, whoever arrived first.
    frames = await frames_until(tabs[0], lambda fs: "and 1 more" in "".join(fs[-1:]))
    presence = [m.group(0) for m in PRESENCE.finditer(frames[-1])][-1]
    assert people_shown(frames) == ["ada", "grace"]
    assert '<span class="count">3</span>' in presence
    assert '<li class="presence-more">and 1 more</li>' in presence
    for tab in tabs:
        await tab.disconnect()


async def test_two_tabs_are_one_person_in_the_list(ada, grace, room, presence_clock):
    first = await open_room(ada)
    second = await open_room(ada)
    frames = await frames_until(second, showing("ada"))
    assert people_shown(frames) == ["ada"]
    watcher = await open_room(grace)
    await frames_until(watcher, showing("ada", "grace"))
    await quiet(watcher, room, presence_clock)

    await first.disconnect()
    await presence_clock.settle()
    # ada still has the room open in her other tab: nobody is told she left.
    assert people_shown(await frames_before_marker(watcher, room)) is None
    await second.disconnect()
    await frames_until(watcher, showing("grace"))
    await watcher.disconnect()


async def test_presence_expires_by_heartbeat_without_a_disconnect(ada, grace, room, presence_clock):
    tab = await open_room(ada)
    await frames_until(tab, showing("ada"))
    # grace's tab on another server process that died: no goodbye, no more heartbeats.
    await memory_store.refresh(
        {logic.room_space(room.id): [f"{grace.pk}:elsewhere"]}, expires_at=presence_clock() + TTL
    )

    await presence_clock.advance(HEARTBEAT)  # the next heartbeat sees her
    await frames_until(tab, showing("ada", "grace"))
    await presence_clock.advance(TTL - HEARTBEAT)  # the heartbeat after her entry expired
    await frames_until(tab, showing("ada"))
    await tab.disconnect()


async def test_bare_sockets_are_not_shown_in_the_room(ada, grace, room, presence_clock):
    tab = await open_room(ada)
    await frames_until(tab, showing("ada"))
    await quiet(tab, room, presence_clock)
    bare = await open_room(grace, "/ws/?room=general")
    await bare.receive_from()  # the bell

    await presence_clock.settle()
    assert people_shown(await frames_before_marker(tab, room)) is None
    await bare.disconnect()
    await tab.disconnect()


async def test_typing_reaches_the_others_throttled_and_is_never_stored(ada, grace, room):
    typist = await open_room(ada)
    reader = await open_room(grace)
    await frames_until(reader, showing("ada", "grace"))
    await handled_so_far(typist)  # its catch-up read

    await typist.send_to(text_data=typing_frame())
    frames = await frames_until(reader, lambda fs: any(TYPING.format(ada.pk) in f for f in fs))
    pushed = next(f for f in frames if TYPING.format(ada.pk) in f)
    assert "ada is typing…" in pushed
    assert 'hx-swap-oob="beforeend:#typing"' in pushed
    assert f'data-not-for="{ada.pk}"' in pushed  # ada's own tabs skip it
    assert 'data-expires-in="3.0"' in pushed  # the page lets it go by itself

    # Within the throttle: dropped. After it: the next one goes out.
    await typist.send_to(text_data=typing_frame())
    await handled_so_far(typist)
    assert not any(TYPING.format(ada.pk) in f for f in await frames_before_marker(reader, room))
    throttle_passes(ada, room)
    await typist.send_to(text_data=typing_frame())
    await frames_until(reader, lambda fs: any(TYPING.format(ada.pk) in f for f in fs))

    await typist.disconnect()
    await reader.disconnect()


async def test_a_flood_of_typing_frames_gives_one_signal_and_the_socket_still_answers(
    ada, grace, room, settings
):
    # The typing throttle is under test here, not the budget of frames (test_socket_budgets).
    settings.SOCKET_BUDGETS = {**settings.SOCKET_BUDGETS, "frame": (20.0, 1000.0)}
    typist = await open_room(ada)
    reader = await open_room(grace)
    await frames_until(reader, showing("ada", "grace"))
    await handled_so_far(typist)  # its catch-up read

    for _ in range(500):
        await typist.send_to(text_data=typing_frame())
    client_id = uuid.uuid4()
    await typist.send_to(
        text_data=json.dumps(
            {"action": "chat.send", "body": "done typing", "client_id": str(client_id)}
        )
    )

    answered = await frames_until(
        typist, lambda fs: any(f'data-answered="{client_id}"' in f for f in fs)
    )
    assert not any("socket-error" in f and "flash-error" in f for f in answered)
    # The message was sent after every typing frame: their signals all come before it.
    received = await frames_until(reader, lambda fs: any("done typing" in f for f in fs))
    assert sum(TYPING.format(ada.pk) in f for f in received) == 1

    await typist.disconnect()
    await reader.disconnect()


async def test_typing_outside_a_room_is_an_unknown_action(ada):
    tab = await open_room(ada, "/ws/?path=%2F")
    await frames_until(tab, lambda fs: any('id="bell"' in f for f in fs))
    await tab.send_to(text_data=typing_frame())
    frames = await frames_until(tab, lambda fs: any("Unknown action" in f for f in fs))
    assert "chat.typing" in frames[-1]
    await tab.disconnect()
