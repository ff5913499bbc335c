"""The Channels worker process (`manage.py runworker pageviews`), made to outlive its
channel layer.

Channels' own Worker ends at the first error from `channel_layer.receive`: a Redis restart,
a failover or a dropped connection, and the process exits and stays down until something
restarts it, with counters and /stats/ stopped meanwhile. This one keeps listening: a failed
receive is logged once per outage, waited out with backoff, and listening goes on once Redis
answers again. Messages sent to the channel while Redis was down are lost (pageview hits are
at-most-once by design); hits sent after it is back are counted.
"""

import asyncio
import logging
from typing import Any

from channels.worker import Worker
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 0.1
RETRY_MAX_SECONDS = 5.0
# What a lost or refused connection raises through channels-redis and redis-py.
LAYER_ERRORS = (RedisError, OSError)


class ResilientWorker(Worker):
    async def listener(self, channel: str) -> None:
        failures = 0
        while True:
            try:
                message = await self.channel_layer.receive(channel)
            except LAYER_ERRORS as error:
                failures += 1
                delay = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** min(failures - 1, 16))
                if failures == 1:
                    logger.warning(
                        "Worker cannot receive from channel %r (%s); retrying until the "
                        "channel layer answers",
                        channel,
                        error or type(error).__name__,
                    )
                await asyncio.sleep(delay)
                continue
            if failures:
                logger.warning(
                    "Worker receives from channel %r again, after %d failed tries",
                    channel,
                    failures,
                )
                failures = 0
            self.route(channel, message)

    def route(self, channel: str, message: dict[str, Any]) -> None:
        if not message.get("type"):
            logger.warning("Worker ignored a message with no type on channel %r", channel)
            return
        scope = {"type": "channel", "channel": channel}
        self.get_or_create_application_instance(channel, scope).put_nowait(message)
