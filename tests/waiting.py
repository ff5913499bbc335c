"""Waiting for a condition, polled against a deadline: the tests' one way to wait for state
that another thread, task or process changes. A deadline ends a test that would hang; it is
never what a test waits for."""

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


def eventually(check: Callable[[], bool], *, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)  # the poll interval


async def until(
    check: Callable[[], object | Awaitable[object]],
    *,
    what: str = "the condition",
    within: float = 5.0,
) -> None:
    """The same on the running event loop, for state its other tasks (or, with a check that
    is a coroutine, its database threads) change."""

    async def holds() -> object:
        answer = check()
        return await answer if inspect.isawaitable(answer) else answer

    try:
        async with asyncio.timeout(within):
            while not await holds():  # noqa: ASYNC110 - polls state others change
                await asyncio.sleep(0.005)  # the poll interval
    except TimeoutError:
        raise AssertionError(f"{what} did not happen within {within} s") from None
