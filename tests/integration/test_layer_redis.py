"""The channel layer's connection pool against the real Redis, under a burst."""

import asyncio
from collections.abc import Sequence

import pytest
from channels_redis.core import RedisChannelLayer as PlainRedisChannelLayer
from redis.exceptions import MaxConnectionsError

from realtime.config import channel_layer
from realtime.hub.hub import Hub
from realtime.layers import RedisChannelLayer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

BURST = 200


def small_pool(redis_url):
    """The production layer's settings, with a pool far smaller than the burst."""
    config = channel_layer({"REDIS_URL": redis_url, "REDIS_MAX_CONNECTIONS": "4"})["CONFIG"]
    return {"hosts": config["hosts"], "group_expiry": config["group_expiry"]}


async def subscribe_burst(layer):
    """Every failure of BURST sockets' group_add, then group_discard, all at once."""
    channel = await layer.new_channel("it")
    groups = [f"it.burst.{n}" for n in range(BURST)]
    added = await asyncio.gather(
        *(layer.group_add(group, channel) for group in groups), return_exceptions=True
    )
    discarded = await asyncio.gather(
        *(layer.group_discard(group, channel) for group in groups), return_exceptions=True
    )
    return [outcome for outcome in added + discarded if outcome is not None]


async def test_plain_channels_redis_fails_a_burst_beyond_its_pool(redis_url):
    layer = PlainRedisChannelLayer(**small_pool(redis_url))
    try:
        failures = await subscribe_burst(layer)
    finally:
        await layer.flush()
    assert failures
    assert all(isinstance(failure, MaxConnectionsError) for failure in failures)


async def test_the_layer_serves_a_burst_beyond_its_pool_by_waiting(redis_url):
    layer = RedisChannelLayer(**small_pool(redis_url))
    try:
        assert await subscribe_burst(layer) == []
    finally:
        await layer.flush()


class Socket:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def deliver(self, html: str, frame: bytes | None = None) -> None:
        self.seen.append(html)

    def deliver_many(self, htmls: Sequence[str], frames: Sequence[bytes]) -> None:
        self.seen.extend(htmls)

    def interrupted(self) -> None:
        pass

    def removed(self, group: str, html: str) -> None:
        pass

    def session_changed(self, change: dict[str, object]) -> None:
        pass


async def test_the_hub_opens_and_closes_a_burst_of_groups_on_a_small_pool(redis_url):
    # Each socket joins a group of its own (a page nobody else has open): one group_add per
    # socket, with the hub allowed more calls at once than the pool has connections.
    layer = RedisChannelLayer(**small_pool(redis_url))
    hub = Hub(layer, refresh_every=3600, concurrency=100)
    sockets = [Socket() for _ in range(BURST)]
    try:
        await asyncio.gather(*(hub.join(f"it.page.{n}", s) for n, s in enumerate(sockets)))
        assert (len(hub.members), len(hub.carriers)) == (BURST, BURST)
        await asyncio.gather(*(hub.leave(f"it.page.{n}", s) for n, s in enumerate(sockets)))
        assert (hub.members, hub.carriers) == ({}, {})
    finally:
        await layer.flush()
