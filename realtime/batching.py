"""Group commit: writes that arrive while the previous ones are being written are written
together, in one call (one transaction), and each caller gets its own answer after it.

There is no delay to gather a batch: a write that finds nothing in progress starts at once, so
a lone write waits no longer than before; only writes that would have queued behind it for
the database thread anyway (realtime.push explains why there is one) share the next call.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

logger = logging.getLogger(__name__)

# Writes in one call at most: a transaction stays short however many sockets send at once.
BATCH_LIMIT = 200

type Write[T, R] = Callable[[list[T]], Awaitable[Sequence[R | Exception]]]
# A caller's future and what it is to be answered.
type Answer[R] = tuple[asyncio.Future[R], R | Exception]


class Batcher[T, R]:
    """Hands `write` every item submitted while its previous call ran.

    `write` returns one answer per item, in order: a result, or the exception that item's
    caller raises. An exception raised by `write` itself is raised to every caller of the
    batch. A caller that stops waiting (its socket closed) does not stop its item's write.

    `then`, if given, is waited for after each write before its callers are answered with
    their results (chat's pushes leaving, say); callers answered with an exception are
    answered at once. The next write does not wait for it, but the one after does: writes run
    at most one batch ahead of the answers.
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
            batch: list[tuple[T, asyncio.Future[R]]] = []
            try:
                while len(self.answering) > 1:  # at most one batch ahead of the answers
                    await asyncio.wait(self.answering, return_when=asyncio.FIRST_COMPLETED)
                batch, self.waiting = self.waiting[: self.limit], self.waiting[self.limit :]
                answers = await self.write([item for item, _ in batch])
            except Exception as error:
                answers = [error] * len(batch)
            except BaseException:
                for _, future in batch + self.waiting:
                    future.cancel()
                self.waiting = []
                raise
            self.answer([(future, a) for (_, future), a in zip(batch, answers, strict=True)])

    def answer(self, answers: Sequence[Answer[R]]) -> None:
        """Errors at once; results once `then` is done, if there is one."""
        results: list[Answer[R]] = [a for a in answers if not isinstance(a[1], Exception)]
        if self.then is None or not results:
            settle_all(answers)
            return
        settle_all([a for a in answers if isinstance(a[1], Exception)])
        answering = asyncio.get_running_loop().create_task(self.run_then())
        self.answering.add(answering)
        answering.add_done_callback(self.answering.discard)
        # A callback, not the task's own code: it runs even if the task is cancelled unstarted.
        answering.add_done_callback(lambda _: settle_all(results))

    async def run_then(self) -> None:
        assert self.then is not None
        try:
            await self.then()
        except Exception:
            logger.exception("A batch's next step failed; its callers are answered anyway")


def settle_all[R](answers: Sequence[Answer[R]]) -> None:
    for future, answer in answers:
        settle(future, answer)


def settle[R](future: asyncio.Future[R], answer: R | Exception) -> None:
    if future.done():  # its caller stopped waiting
        return
    if isinstance(answer, Exception):
        future.set_exception(answer)
    else:
        future.set_result(answer)
