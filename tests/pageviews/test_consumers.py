"""The page socket's pageview parts: counters, "here now", the stats page."""

import asyncio
import re
from urllib.parse import quote

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from pageviews import logic
from pageviews.models import PageCounter
from realtime.hub.messages import push_event
from realtime.presence import Presence, get_presence, memory_store
from realtime.sockets.closes import CLOSE_BAD_REQUEST
from tests.clocks import HEARTBEAT, TTL

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    # PAGE is a room's page: its counters are told only to readers of a room that exists.
    pytest.mark.usefixtures("close_db_connections", "presence_clock", "room"),
]

PAGE = "/rooms/general/"
HERE_NOW = re.compile(r'<span id="here-now"[^>]*>(\d+) here now</span>')


def router():
    from realtime.routing import websocket_urlpatterns

    return URLRouter(websocket_urlpatterns)


async def open_page(user, path=PAGE, **params):
    query = "&".join([f"path={quote(path, safe='')}", *(f"{k}={v}" for k, v in params.items())])
    communicator = WebsocketCommunicator(router(), f"/ws/?{query}")
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


def here_now(frames):
    counts = [int(count) for frame in frames for count in HERE_NOW.findall(frame)]
    return counts[-1] if counts else None


def shows_here_now(count):
    return lambda frames: here_now(frames) == count


async def test_a_page_opens_with_its_views_and_who_is_here(ada):
    await database_sync_to_async(PageCounter.objects.create)(path=PAGE, views=1234)
    page = await open_page(ada)

    views = '<span id="page-views" class="counter" hx-swap-oob="true">1,234 views</span>'
    # Who is here comes with the announcement of this arrival, to everyone on the page.
    frames = await frames_until(page, lambda fs: any(views in f for f in fs) and here_now(fs) == 1)
    assert sum(views in f for f in frames) == 1
    await page.disconnect()


async def test_a_page_whose_presence_could_not_be_entered_still_gets_its_views(ada, monkeypatch):
    await database_sync_to_async(PageCounter.objects.create)(path=PAGE, views=7)

    async def unavailable(*args, **kwargs):
        raise ConnectionError("presence is unavailable")

    monkeypatch.setattr(Presence, "enter", unavailable)
    page = await open_page(ada)
    views = '<span id="page-views" class="counter" hx-swap-oob="true">7 views</span>'
    frames = await frames_until(page, lambda fs: any(views in f for f in fs))
    assert here_now(frames) is None
    await page.disconnect()


async def test_two_people_on_one_page_see_each_other_arrive_and_leave(ada, grace):
    ada_page = await open_page(ada)
    await frames_until(ada_page, shows_here_now(1))

    grace_page = await open_page(grace)
    await frames_until(grace_page, shows_here_now(2))
    await frames_until(ada_page, shows_here_now(2))

    await grace_page.disconnect()
    await frames_until(ada_page, shows_here_now(1))
    await ada_page.disconnect()


async def test_two_tabs_of_one_person_count_once(ada, grace):
    first_tab = await open_page(ada)
    second_tab = await open_page(ada)
    frames = await frames_until(second_tab, shows_here_now(1))
    assert here_now(frames) == 1

    grace_page = await open_page(grace)
    await frames_until(first_tab, shows_here_now(2))
    # One of ada's tabs closing leaves ada here.
    await second_tab.disconnect()  # returns once the socket has left
    assert len(await get_presence().members(logic.page_space(PAGE))) == 2
    assert await get_presence().people(logic.page_space(PAGE)) == [ada.pk, grace.pk]

    await first_tab.disconnect()
    await frames_until(grace_page, shows_here_now(1))
    await grace_page.disconnect()


async def test_someone_whose_server_died_drops_out_by_expiry_alone(ada, grace, presence_clock):
    clock = presence_clock
    page = await open_page(ada)
    await frames_until(page, shows_here_now(1))
    # grace's tab on a server process that then died: one entry, never refreshed, no goodbye.
    await memory_store.refresh(
        {logic.page_space(PAGE): [f"{grace.pk}:gone"]}, expires_at=clock() + TTL
    )

    await clock.advance(HEARTBEAT)  # the next heartbeat sees her
    await frames_until(page, shows_here_now(2))
    await clock.advance(TTL - HEARTBEAT)  # the heartbeat after her entry expired
    await frames_until(page, shows_here_now(1))
    # ada's own entry outlived its TTL several times over: the heartbeat kept it.
    await clock.advance(3 * TTL)
    assert await get_presence().people(logic.page_space(PAGE)) == [ada.pk]
    await page.disconnect()


async def test_counter_pushes_reach_the_page_and_no_other(ada):
    page = await open_page(ada)
    other = await open_page(ada, "/notifications/")
    await frames_until(page, shows_here_now(1))
    await frames_until(other, shows_here_now(1))

    from channels.layers import get_channel_layer

    group = logic.page_group_name(PAGE)
    await get_channel_layer().group_send(group, push_event(group, "<p id='views'>99</p>"))

    await frames_until(page, lambda fs: "<p id='views'>99</p>" in fs)
    # A marker to the other page's group, sent after: had the push reached it, it would be first.
    others = logic.page_group_name("/notifications/")
    await get_channel_layer().group_send(others, push_event(others, "<p id='marker'></p>"))
    frames = await frames_until(other, lambda fs: "<p id='marker'></p>" in fs)
    assert "<p id='views'>99</p>" not in frames
    await page.disconnect()
    await other.disconnect()


@pytest.mark.parametrize("path", ["elsewhere", "/a b", "/" + "a" * 250])
async def test_a_malformed_page_path_is_refused_with_a_reason(ada, path):
    communicator = WebsocketCommunicator(router(), f"/ws/?path={quote(path, safe='')}")
    communicator.scope["user"] = ada
    connected, _ = await communicator.connect()
    assert connected
    closed = await communicator.receive_output()
    assert closed == {
        "type": "websocket.close",
        "code": CLOSE_BAD_REQUEST,
        "reason": closed["reason"],
    }
    assert "path" in closed["reason"].lower()


async def test_a_socket_without_a_page_is_not_counted(ada):
    communicator = WebsocketCommunicator(router(), "/ws/")
    communicator.scope["user"] = ada
    await communicator.connect()
    assert 'id="bell"' in await communicator.receive_from()
    # A frame it refuses, handled after its opening: nothing came between the bell and the answer.
    await communicator.send_to(text_data='{"action": "test.barrier"}')
    assert "Unknown action" in await communicator.receive_from()
    assert await get_presence().members("site") == []
    await communicator.disconnect()


async def test_the_stats_page_opens_with_the_stats_and_hears_their_pushes(ada):
    page = await open_page(ada, "/stats/", page="stats")
    frames = await frames_until(page, lambda fs: any('id="stats"' in f for f in fs))
    stats = next(f for f in frames if 'id="stats"' in f)
    assert '<dd id="stat-connections">1</dd>' in stats
    assert '<dd id="stat-people">1</dd>' in stats
    assert "<svg" in stats

    from channels.layers import get_channel_layer

    await get_channel_layer().group_send(
        logic.STATS_GROUP, push_event(logic.STATS_GROUP, "<div id='stats'>new</div>")
    )
    await frames_until(page, lambda fs: "<div id='stats'>new</div>" in fs)
    await page.disconnect()
