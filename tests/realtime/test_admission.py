import asyncio

import pytest

from realtime.admission import Admission
from tests.waiting import until


@pytest.mark.asyncio
async def test_sockets_are_admitted_a_few_at_a_time_in_arrival_order():
    admission = Admission(concurrency=2, wait=5.0)
    admitted: list[int] = []
    release = asyncio.Event()

    async def socket(number: int) -> None:
        assert await admission.enter()
        admitted.append(number)
        await release.wait()
        admission.leave()

    tasks = [asyncio.create_task(socket(n)) for n in range(6)]
    await until(lambda: admission.waiting == 4, what="four sockets waiting")
    assert admitted == [0, 1]
    assert admission.waiting == 4
    release.set()
    await asyncio.gather(*tasks)
    assert admitted == [0, 1, 2, 3, 4, 5]
    assert admission.waiting == 0


@pytest.mark.asyncio
async def test_a_socket_that_waits_too_long_is_turned_away_and_holds_no_place():
    admission = Admission(concurrency=1, wait=0.05)
    assert await admission.enter()
    assert not await admission.enter()  # the first still holds the only place
    assert admission.waiting == 0
    admission.leave()
    assert await admission.enter()  # the refused one took nothing with it
    admission.leave()


@pytest.mark.asyncio
async def test_a_newcomer_never_overtakes_a_waiting_socket():
    admission = Admission(concurrency=1, wait=5.0)
    assert await admission.enter()
    order: list[str] = []

    async def socket(name: str) -> None:
        assert await admission.enter()
        order.append(name)
        admission.leave()

    first = asyncio.create_task(socket("waiting"))
    await until(lambda: admission.waiting == 1, what="a socket waiting")
    admission.leave()  # a place frees up just as a newcomer arrives
    await socket("newcomer")
    await first
    assert order == ["waiting", "newcomer"]


def test_admission_needs_a_place():
    with pytest.raises(ValueError, match="at least one"):
        Admission(concurrency=0, wait=1.0)
