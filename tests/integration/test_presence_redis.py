"""The Redis presence store against the real Redis."""

import pytest
import pytest_asyncio
import redis.asyncio

from realtime.logic import presence_key
from realtime.presence import Presence, RedisPresenceStore

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


@pytest_asyncio.fixture
async def client(redis_url):
    connection = redis.asyncio.Redis.from_url(redis_url)
    yield connection
    await connection.delete(presence_key("it.room"), presence_key("it.other"))
    await connection.aclose()


async def test_entries_expire_by_their_own_time(client):
    store = RedisPresenceStore(client, ttl=30.0)
    await store.refresh({"it.room": ["1:a", "1:b"], "it.other": ["2:a"]}, expires_at=1030.0)
    await store.refresh({"it.room": ["3:a"]}, expires_at=1010.0)

    assert await store.members(["it.room", "it.other"], now=1000.0) == {
        "it.room": ["1:a", "1:b", "3:a"],
        "it.other": ["2:a"],
    }
    assert await store.members(["it.room"], now=1015.0) == {"it.room": ["1:a", "1:b"]}
    # Expired entries are pruned, and a space nobody refreshes goes away by itself.
    assert await client.zcard(presence_key("it.room")) == 2
    assert 0 < await client.ttl(presence_key("it.room")) <= 90


async def test_two_processes_share_one_view_of_a_space(client):
    one = Presence(RedisPresenceStore(client, ttl=30), ttl=30, heartbeat=10, announce_every=1)
    two = Presence(RedisPresenceStore(client, ttl=30), ttl=30, heartbeat=10, announce_every=1)
    await one.enter("it.room", "1:tab")
    await two.enter("it.room", "1:other-tab")
    await two.enter("it.room", "2:tab")

    assert await one.people("it.room") == [1, 2]
    await two.leave("it.room", "2:tab")
    assert await one.people("it.room") == [1]
    await one.leave("it.room", "1:tab")
    await two.leave("it.room", "1:other-tab")
    assert await one.members("it.room") == []
