import asyncio
from collections.abc import Sequence

import pytest

from realtime.batching import Answer, Batcher, settle
from tests.waiting import until

pytestmark = pytest.mark.asyncio


class Store:
    """A write that the test lets finish: each call waits for its own go-ahead."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.started = asyncio.Event()
        self.go = asyncio.Event()

    async def write(self, items: list[str]) -> list[str | Exception]:
        self.calls.append(items)
        self.started.set()
        await self.go.wait()
        return [ValueError(item) if item.startswith("bad") else item.upper() for item in items]


async def test_a_lone_item_is_written_at_once() -> None:
    store = Store()
    store.go.set()
    assert await Batcher(store.write).submit("a") == "A"
    assert store.calls == [["a"]]


async def test_items_that_arrive_during_a_write_share_the_next_one() -> None:
    store = Store()
    batcher = Batcher(store.write)
    first = asyncio.create_task(batcher.submit("a"))
    await store.started.wait()
    queued = [asyncio.create_task(batcher.submit(item)) for item in ("b", "c", "d")]
    await asyncio.sleep(0)  # they are waiting, not written
    assert store.calls == [["a"]]

    store.go.set()
    assert await asyncio.gather(first, *queued) == ["A", "B", "C", "D"]
    assert store.calls == [["a"], ["b", "c", "d"]]


@pytest.mark.parametrize(
    ("limit", "calls"), [(2, [["a"], ["b", "c"], ["d"]]), (3, [["a"], ["b", "c", "d"]])]
)
async def test_a_batch_holds_at_most_limit_items(limit: int, calls: list[list[str]]) -> None:
    store = Store()
    batcher = Batcher(store.write, limit=limit)
    first = asyncio.create_task(batcher.submit("a"))
    await store.started.wait()
    queued = [asyncio.create_task(batcher.submit(item)) for item in ("b", "c", "d")]
    await asyncio.sleep(0)
    store.go.set()
    await asyncio.gather(first, *queued)
    assert store.calls == calls


async def test_an_item_answered_with_an_error_raises_it_to_its_caller_alone() -> None:
    store = Store()
    store.go.set()
    batcher = Batcher(store.write)
    answers = await asyncio.gather(
        *(batcher.submit(item) for item in ("a", "bad", "c")), return_exceptions=True
    )
    assert [str(answer) for answer in answers] == ["A", "bad", "C"]
    assert isinstance(answers[1], ValueError)


async def test_a_failing_write_raises_to_every_caller_of_its_batch() -> None:
    async def down(items: list[str]) -> list[str | Exception]:
        raise ConnectionError("database down")

    batcher = Batcher(down)
    answers = await asyncio.gather(*(batcher.submit(i) for i in "abc"), return_exceptions=True)
    assert [type(answer) for answer in answers] == [ConnectionError] * 3


async def test_a_caller_that_stops_waiting_does_not_stop_the_write() -> None:
    store = Store()
    batcher = Batcher(store.write)
    gone = asyncio.create_task(batcher.submit("a"))
    await store.started.wait()
    gone.cancel()
    stays = asyncio.create_task(batcher.submit("b"))
    await asyncio.sleep(0)
    store.go.set()
    assert await stays == "B"
    assert gone.cancelled()
    assert store.calls == [["a"], ["b"]]


@pytest.mark.parametrize(
    ("answer", "result"), [("x", "x"), (ValueError("no"), ValueError)], ids=["value", "error"]
)
async def test_settle(answer: object, result: object) -> None:
    future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    settle(future, answer)
    if isinstance(result, type):
        assert isinstance(future.exception(), result)
    else:
        assert future.result() == result


async def test_settle_leaves_a_cancelled_future_alone() -> None:
    future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    future.cancel()
    settle(future, "x")
    assert future.cancelled()


async def test_callers_wait_for_then_but_the_next_write_does_not() -> None:
    store = Store()
    store.go.set()
    released = asyncio.Event()
    thens = 0

    async def then() -> None:
        nonlocal thens
        thens += 1
        await released.wait()

    batcher = Batcher(store.write, then=then)
    first = asyncio.create_task(batcher.submit("a"))
    await until(lambda: thens == 1, what="the first write done")
    second = asyncio.create_task(batcher.submit("b"))
    await until(lambda: store.calls == [["a"], ["b"]], what="the second write")
    # Both wait for `then`.
    assert not first.done()
    assert not second.done()

    released.set()
    assert [await first, await second] == ["A", "B"]
    assert thens == 2  # once per write, not per caller


async def test_a_failing_then_still_answers_its_callers(caplog: pytest.LogCaptureFixture) -> None:
    store = Store()
    store.go.set()

    async def then() -> None:
        raise RuntimeError("then failed")

    assert await Batcher(store.write, then=then).submit("a") == "A"
    assert "A batch's next step failed; its callers are answered anyway" in caplog.text


async def never() -> None:
    await asyncio.Event().wait()


@pytest.mark.parametrize("started", [True, False], ids=["while waiting", "before it starts"])
async def test_callers_are_answered_if_then_is_cancelled(
    started: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a loop shutting down cancels every task, whether it has run yet or not."""
    store = Store()
    store.go.set()
    batcher = Batcher(store.write, then=never)
    if not started:
        answer = batcher.answer

        def answer_then_cancel(answers: Sequence[Answer[str]]) -> None:
            answer(answers)
            for answering in batcher.answering:
                answering.cancel()  # in the same turn of the loop: it never runs

        monkeypatch.setattr(batcher, "answer", answer_then_cancel)
    first = asyncio.create_task(batcher.submit("a"))
    if started:
        await until(lambda: batcher.answering, what="the write done")
        await asyncio.sleep(0)  # `then` is running
        for answering in batcher.answering:
            answering.cancel()
    async with asyncio.timeout(5):
        assert await first == "A"


async def test_an_error_is_answered_without_waiting_for_then() -> None:
    store = Store()
    store.go.set()
    batcher = Batcher(store.write, then=never)
    with pytest.raises(ValueError, match="bad"):
        async with asyncio.timeout(5):
            await batcher.submit("bad")


async def test_writes_run_at_most_one_batch_ahead_of_the_answers() -> None:
    store = Store()
    store.go.set()
    released = asyncio.Event()

    async def then() -> None:
        await released.wait()

    batcher = Batcher(store.write, then=then)
    first = asyncio.create_task(batcher.submit("a"))
    await until(lambda: store.calls == [["a"]], what="the first write")
    second = asyncio.create_task(batcher.submit("b"))
    await until(lambda: store.calls == [["a"], ["b"]], what="the second write")
    third = asyncio.create_task(batcher.submit("c"))
    await asyncio.sleep(0.05)
    assert store.calls == [["a"], ["b"]]  # two batches wait for `then`: the third waits too

    released.set()
    assert [await first, await second, await third] == ["A", "B", "C"]
    assert store.calls == [["a"], ["b"], ["c"]]
