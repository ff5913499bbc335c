"""Group commit: writes that arrive while the previous ones are being written are written
together, in one call (one transaction), and each caller gets its own answer after it.

There is no delay to gather a batch: a write that finds nothing in progress starts at once, so
a lone write waits no longer than before; only writes that would have queued behind it for
the database thread anyway (realtime.push explains why there is one) share the next call.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence

# Writes in one call at most: a transaction stays short however many sockets send at once.
BATCH_LIMIT = 200

type Write[T, R] = Callable[[list[T]], Awaitable[Sequence[R | Exception]]]


class Batcher[T, R]:
    """Hands `write` every item submitted while its previous call ran.

    `write` returns one answer per item, in order: a result, or the exception that item's
    caller raises. An exception raised by `write` itself is raised to every caller of the
    batch. A caller that stops waiting (its socket closed) does not stop its item's write.

    `then`, if given, is waited for after each write before its callers are answered (chat's
    pushes leaving, say); the next write does not wait for it.
    """

    def __init__(
        self,
        write: Write[T, R],
        *,
        then: Callable[[], Awaitable[None]] | None = None,
        limit: int = BATCH_LIMIT,
    ) -> None:
        self.write = write
        self.then = then
        self.limit = limit
        self.waiting: list[tuple[T, asyncio.Future[R]]] = []
        self.writing: asyncio.Task[None] | None = None
        self.answering: set[asyncio.Task[None]] = set()  # batches waiting for `then`

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[R] = loop.create_future()
        self.waiting.append((item, answer))
        if self.writing is None or self.writing.done():
            self.writing = loop.create_task(self.write_all())
        return await answer

    async def write_all(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting[: self.limit], self.waiting[self.limit :]
            try:
                answers = await self.write([item for item, _ in batch])
            except Exception as error:
                answers = [error] * len(batch)
            except BaseException:
                for _, future in batch + self.waiting:
                    future.cancel()
                self.waiting = []
                raise
            self.answer(batch, answers)

    def answer(
        self, batch: list[tuple[T, asyncio.Future[R]]], answers: Sequence[R | Exception]
    ) -> None:
        if self.then is None:
            settle_all(batch, answers)
            return
        answering = asyncio.get_running_loop().create_task(self.answer_then(batch, answers))
        self.answering.add(answering)
        answering.add_done_callback(self.answering.discard)

    async def answer_then(
        self, batch: list[tuple[T, asyncio.Future[R]]], answers: Sequence[R | Exception]
    ) -> None:
        assert self.then is not None
        try:
            await self.then()
        finally:
            settle_all(batch, answers)


def settle_all[T, R](
    batch: list[tuple[T, asyncio.Future[R]]], answers: Sequence[R | Exception]
) -> None:
    for (_, future), answer in zip(batch, answers, strict=True):
        settle(future, answer)


def settle[R](future: asyncio.Future[R], answer: R | Exception) -> None:
    if future.done():  # its caller stopped waiting
        return
    if isinstance(answer, Exception):
        future.set_exception(answer)
    else:
        future.set_result(answer)
