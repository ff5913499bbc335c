"""The Redis channel layer, with a connection pool that makes callers wait their turn.

channels-redis gives each Redis host a plain connection pool: once `max_connections`
commands are in flight, the next one raises `MaxConnectionsError: Too many connections`
instead of waiting. Everything in a server process shares that pool: the hub's group_add and
group_discard for every socket that opens or closes, the pushes of every action, pageview
hits and presence announcements. A burst of sockets opening or closing at once overflowed it
(8,964 failed group_discard calls when 10,000 sockets closed together, docs/benchmarks.md),
refusing sockets and leaving stale memberships in Redis. The hub's own bound on its calls
(HUB_LAYER_CONCURRENCY) holds only while it stays under the pool size and nothing else uses
the pool. With a blocking pool a caller waits for a free connection instead (at most
REDIS_SOCKET_TIMEOUT), so a burst is served at Redis' pace and nothing fails.
"""

from typing import Any

from channels_redis.core import RedisChannelLayer as PlainRedisChannelLayer
from redis.asyncio import BlockingConnectionPool

from realtime.config import REDIS_SOCKET_TIMEOUT


class RedisChannelLayer(PlainRedisChannelLayer):
    def create_pool(self, index: int) -> Any:
        host = dict(self.hosts[index])
        address = host.pop("address", None)
        if address is None:  # a Sentinel or keyword configuration: channels-redis' own
            return super().create_pool(index)
        return BlockingConnectionPool.from_url(address, timeout=REDIS_SOCKET_TIMEOUT, **host)
