import asyncio

from realtime.loops import per_loop


def test_one_object_per_running_loop_made_on_first_use():
    made: list[object] = []

    def make() -> object:
        made.append(object())
        return made[-1]

    get = per_loop(make)

    async def twice() -> tuple[object, object]:
        return get(), get()

    first, again = asyncio.run(twice())
    other, _ = asyncio.run(twice())
    assert first is again
    assert other is not first
    assert len(made) == 2
