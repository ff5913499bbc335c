"""The pageview worker consumer, driven as `runworker pageviews` drives it."""

import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import ApplicationCommunicator

from pageviews import actions, events, logic
from pageviews.consumers import PageviewWorker
from pageviews.models import PageCounter
from realtime.presence import get_presence, memory_store

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_connections"),
]

FLUSH = 0.2


@pytest.fixture(autouse=True)
def quick_flushes(settings):
    settings.PAGEVIEWS_FLUSH_SECONDS = FLUSH
    settings.STATS_PUSH_SECONDS = FLUSH
    memory_store.clear()
    yield
    memory_store.clear()


@pytest.fixture
def batches(monkeypatch):
    """Every batch the worker saved."""
    saved = []
    record = actions.pageviews_record

    def spy(*, batch):
        saved.append(batch)
        record(batch=batch)

    monkeypatch.setattr("pageviews.consumers.actions.pageviews_record", spy)
    return saved


def worker() -> ApplicationCommunicator:
    return ApplicationCommunicator(
        PageviewWorker.as_asgi(), {"type": "channel", "channel": "pageviews"}
    )


async def views_of(path: str):
    return await database_sync_to_async(
        lambda: PageCounter.objects.filter(path=path).values_list("views", flat=True).first()
    )()


async def stop(communicator: ApplicationCommunicator) -> None:
    communicator.future.cancel()
    with pytest.raises(asyncio.CancelledError):
        await communicator.future


async def test_hits_are_coalesced_into_batches(batches, page_pushes):
    communicator = worker()
    for _ in range(300):
        await communicator.send_input(logic.hit_message("/a/", time.time()))
    for _ in range(5):
        await communicator.send_input(logic.hit_message("/b/", time.time()))
    await asyncio.sleep(FLUSH * 2.5)

    assert await views_of("/a/") == 300
    assert await views_of("/b/") == 5
    assert 1 <= len(batches) <= 2  # 305 views, one or two transactions
    assert sum(sum(batch.views.values()) for batch in batches) == 305
    assert len(page_pushes.to(logic.page_group_name("/a/"))) == len(batches)
    assert "300 views" in page_pushes.to(logic.page_group_name("/a/"))[-1]
    await stop(communicator)


async def test_pushes_per_page_are_bounded_however_many_views_arrive(batches, page_pushes):
    communicator = worker()
    sent = 0
    started = time.monotonic()
    while time.monotonic() - started < FLUSH * 5:
        for _ in range(20):
            await communicator.send_input(logic.hit_message("/busy/", time.time()))
            sent += 1
        await asyncio.sleep(0.01)
    await asyncio.sleep(FLUSH * 2.5)

    pushed = page_pushes.to(logic.page_group_name("/busy/"))
    # About one push per flush interval, while hundreds of views arrived.
    assert sent >= 500
    assert 3 <= len(pushed) <= 8
    assert await views_of("/busy/") == sent
    assert f"{sent:,} views" in pushed[-1]
    await stop(communicator)


async def test_malformed_hits_are_dropped_and_the_worker_goes_on(caplog, page_pushes):
    communicator = worker()
    await communicator.send_input({"type": logic.HIT, "path": "elsewhere", "at": 1.0})
    await communicator.send_input({"type": "pageview.unknown"})
    await communicator.send_input(logic.hit_message("/ok/", time.time()))
    await asyncio.sleep(FLUSH * 2)

    assert await views_of("/ok/") == 1
    assert "ignored a malformed hit" in caplog.text
    assert "ignored a message of type 'pageview.unknown'" in caplog.text
    await stop(communicator)


async def test_a_batch_the_database_refused_is_saved_with_the_next_one(
    monkeypatch, caplog, page_pushes
):
    refused, saved = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    record = actions.pageviews_record

    def down_once(*, batch):
        if not refused.is_set():
            loop.call_soon_threadsafe(refused.set)
            raise RuntimeError("database went away")
        record(batch=batch)  # saved, and pushed on commit
        loop.call_soon_threadsafe(saved.set)

    monkeypatch.setattr("pageviews.consumers.actions.pageviews_record", down_once)
    communicator = worker()
    await communicator.send_input(logic.hit_message("/a/", time.time()))
    await asyncio.wait_for(refused.wait(), timeout=5)
    await communicator.send_input(logic.hit_message("/a/", time.time()))

    await asyncio.wait_for(saved.wait(), timeout=5)
    pushed = page_pushes.to(logic.page_group_name("/a/"))
    assert "Saving 1 pageviews failed; trying again at the next flush" in caplog.text
    assert await views_of("/a/") == 2
    assert len(pushed) == 1
    assert "2 views" in pushed[0]
    await stop(communicator)


async def test_stats_are_pushed_only_while_someone_has_the_stats_page_open(page_pushes):
    communicator = worker()
    await communicator.send_input(logic.hit_message("/a/", time.time()))
    await asyncio.sleep(FLUSH * 2)
    assert page_pushes.to(logic.STATS_GROUP) == []

    presence = get_presence()
    await presence.enter(logic.page_space(events.stats_path()), "1:tab")
    await presence.enter("site", "1:tab")
    await communicator.send_input(logic.hit_message("/a/", time.time()))
    await asyncio.sleep(FLUSH * 2.5)

    pushed = page_pushes.to(logic.STATS_GROUP)
    assert pushed
    assert '<dd id="stat-connections">1</dd>' in pushed[-1]
    assert 'id="stats"' in pushed[-1]
    assert "/a/" in pushed[-1]  # among the top pages
    await stop(communicator)
