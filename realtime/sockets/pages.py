"""Every open page socket of this process, and closing them all when the server stops."""

import asyncio
import contextlib
import logging
import weakref
from typing import Any, Protocol

logger = logging.getLogger(__name__)

# How long a stopping server waits for clients to answer its close, and for the channel layer.
SHUTDOWN_SECONDS = 2.0


class Page(Protocol):
    scope: dict[str, Any]

    def interrupted(self) -> None:
        """Close with 1012: the page reconnects and resumes."""

    async def wait_gone(self) -> None:
        """Until the client has disconnected."""


open_pages: "weakref.WeakSet[Page]" = weakref.WeakSet()


async def close_all() -> None:
    """The server is stopping: every page reconnects elsewhere, or here once it is back."""
    pages = list(open_pages)
    logger.info("Server stopping: closing %d page sockets with 1012", len(pages))
    for page in pages:
        page.interrupted()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(SHUTDOWN_SECONDS):
            await asyncio.gather(*(page.wait_gone() for page in pages))
