"""Orderly admission of new sockets: first come, first served, a few at a time.

Opening a page socket is database and channel-layer work. Started all at once, a burst of
handshakes shares that work out evenly, so every one of them finishes late together and
Daphne's connect timeout (5 s by default) drops them all without an answer. Through this gate
at most `concurrency` sockets of a process open at once and the others wait in arrival order:
a burst completes at the server's throughput, oldest first. A socket that waited longer than
`wait` seconds is refused with a code the page retries (1013), well before Daphne's timeout.
"""

import asyncio
import time

from django.conf import settings

from realtime import metrics
from realtime.loops import per_loop


class Admission:
    def __init__(self, *, concurrency: int, wait: float) -> None:
        if concurrency < 1:
            raise ValueError("admission needs room for at least one socket at a time")
        # asyncio's Semaphore is fair: a newcomer never overtakes a socket already waiting.
        self.slots = asyncio.Semaphore(concurrency)
        self.wait = wait
        self.waiting = 0

    async def enter(self) -> bool:
        """Wait for this socket's turn; False if it did not come within `wait` seconds."""
        started = time.monotonic()
        self.waiting += 1
        try:
            async with asyncio.timeout(self.wait):
                await self.slots.acquire()
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1
            metrics.ADMISSION_WAIT.observe(time.monotonic() - started)
        return True

    def leave(self) -> None:
        self.slots.release()


def make_admission() -> Admission:
    return Admission(
        concurrency=settings.SOCKET_CONNECT_CONCURRENCY, wait=settings.SOCKET_CONNECT_WAIT
    )


# The gate of the running event loop (one per server process).
get_admission = per_loop(make_admission)
