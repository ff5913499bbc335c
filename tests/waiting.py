"""Waiting for a condition, polled against a deadline: the tests' one way to wait for state
that another thread, task or process changes. A deadline ends a test that would hang; it is
never what a test waits for."""

import asyncio
import time
from collections.abc import Callable


def eventually(check: Callable[[], bool], *, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)  # the poll interval


async def until(
    check: Callable[[], object], *, what: str = "the condition", within: float = 5.0
) -> None:
    """The same on the running event loop, for state its other tasks change."""
    try:
        async with asyncio.timeout(within):
            while not check():  # noqa: ASYNC110 - polls state other tasks change
                await asyncio.sleep(0.005)  # the poll interval
    except TimeoutError:
        raise AssertionError(f"{what} did not happen within {within} s") from None
