"""The embedded topology runs its task worker inside the server process: the ASGI application
starts it on the server's event loop the first time it is called (not on import, so that
manage.py commands and tests that import the application start nothing)."""

import asyncio
from typing import Any

from taskworker.worker import run_embedded_worker

ASGIApp = Any


def with_embedded_worker(app: ASGIApp) -> ASGIApp:
    running: list[asyncio.Task[None]] = []

    async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not running:
            running.append(asyncio.get_running_loop().create_task(run_embedded_worker()))
        await app(scope, receive, send)

    return application
