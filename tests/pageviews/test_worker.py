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


@pytest.fixture(autouse=True)
def flushes_only_when_told(settings):
    # The worker's own timer never fires during a test: each test flushes with `flush`,
    # so what a flush saves and pushes is exact.
    settings.PAGEVIEWS_FLUSH_SECONDS = 3600
    settings.STATS_PUSH_SECONDS = 0
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


class FlushedWorker(PageviewWorker):
    """The worker, plus a flush the test sends down its channel: handled in order, after every
    hit sent before it."""

    async def test_flush(self, message):
        await self.flush()
        message["done"].set()


def worker() -> ApplicationCommunicator:
    return ApplicationCommunicator(
        FlushedWorker.as_asgi(), {"type": "channel", "channel": "pageviews"}
    )


async def flush(communicator: ApplicationCommunicator) -> None:
    done = asyncio.Event()
    await communicator.send_input({"type": "test.flush", "done": done})
    await asyncio.wait_for(done.wait(), timeout=5)


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
    await flush(communicator)

    assert await views_of("/a/") == 300
    assert await views_of("/b/") == 5
    assert [batch.views for batch in batches] == [{"/a/": 300, "/b/": 5}]  # one transaction
    [pushed_a] = page_pushes.to(logic.page_group_name("/a/"))
    [pushed_b] = page_pushes.to(logic.page_group_name("/b/"))
    assert "300 views" in pushed_a
    assert "5 views" in pushed_b
    await stop(communicator)


async def test_pushes_per_page_are_bounded_however_many_views_arrive(batches, page_pushes):
    communicator = worker()
    for _ in range(5):
        for _ in range(300):
            await communicator.send_input(logic.hit_message("/busy/", time.time()))
        await flush(communicator)
    await flush(communicator)  # no views since the last one: nothing to push

    pushed = page_pushes.to(logic.page_group_name("/busy/"))
    # One push per flush that saved views, while hundreds of views arrived in each.
    assert len(pushed) == 5
    assert len(batches) == 5
    assert await views_of("/busy/") == 1500
    totals = [f"{views:,} views" for views in (300, 600, 900, 1200, 1500)]
    assert [total in html for total, html in zip(totals, pushed, strict=True)] == [True] * 5
    await stop(communicator)


async def test_malformed_hits_are_dropped_and_the_worker_goes_on(caplog, page_pushes):
    communicator = worker()
    await communicator.send_input({"type": logic.HIT, "path": "elsewhere", "at": 1.0})
    await communicator.send_input({"type": "pageview.unknown"})
    await communicator.send_input(logic.hit_message("/ok/", time.time()))
    await flush(communicator)

    assert await views_of("/ok/") == 1
    assert "ignored a malformed hit" in caplog.text
    assert "ignored a message of type 'pageview.unknown'" in caplog.text
    await stop(communicator)


async def test_a_batch_the_database_refused_is_saved_with_the_next_one(
    monkeypatch, caplog, page_pushes
):
    tries: list[dict[str, int]] = []
    record = actions.pageviews_record

    def down_once(*, batch):
        tries.append(batch.views)
        if len(tries) == 1:
            raise RuntimeError("database went away")
        record(batch=batch)  # saved, and pushed on commit

    monkeypatch.setattr("pageviews.consumers.actions.pageviews_record", down_once)
    communicator = worker()
    await communicator.send_input(logic.hit_message("/a/", time.time()))
    await flush(communicator)
    assert "Saving 1 pageviews failed; trying again at the next flush" in caplog.text
    assert page_pushes.to(logic.page_group_name("/a/")) == []

    await communicator.send_input(logic.hit_message("/a/", time.time()))
    await flush(communicator)
    pushed = page_pushes.to(logic.page_group_name("/a/"))
    assert tries == [{"/a/": 1}, {"/a/": 2}]
    assert await views_of("/a/") == 2
    assert len(pushed) == 1
    assert "2 views" in pushed[0]
    await stop(communicator)


async def test_stats_are_pushed_only_while_someone_has_the_stats_page_open(page_pushes):
    communicator = worker()
    await communicator.send_input(logic.hit_message("/a/", time.time()))
    await flush(communicator)
    assert page_pushes.to(logic.STATS_GROUP) == []

    presence = get_presence()
    await presence.enter(logic.page_space(events.stats_path()), "1:tab")
    await presence.enter("site", "1:tab")
    await communicator.send_input(logic.hit_message("/a/", time.time()))
    await flush(communicator)

    [pushed] = page_pushes.to(logic.STATS_GROUP)
    assert '<dd id="stat-connections">1</dd>' in pushed
    assert 'id="stats"' in pushed
    assert "/a/" in pushed  # among the top pages
    await stop(communicator)
