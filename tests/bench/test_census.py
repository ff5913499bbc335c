"""The census's table: allocations between two real tracemalloc snapshots, per socket, by the
site that made them."""

import tracemalloc

import pytest

from bench import census
from bench.targets import ROOT

KEPT: list[bytearray] = []


def allocate(count: int, size: int) -> None:
    KEPT.extend(bytearray(size) for _ in range(count))


@pytest.fixture
def snapshots() -> tuple[tracemalloc.Snapshot, tracemalloc.Snapshot]:
    if tracemalloc.is_tracing():
        pytest.skip("tracemalloc is already tracing (python -X tracemalloc)")
    tracemalloc.start(10)
    try:
        before = tracemalloc.take_snapshot()
        allocate(100, 4096)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
        KEPT.clear()
    return before, after


def test_allocations_are_counted_per_socket_at_the_line_that_made_them(snapshots):
    before, after = snapshots
    rows = census.table(before, after, count=10, depth=2, top=3)
    size, blocks, site = rows[0]
    # 100 arrays of 4 KiB over 10 sockets: 40 KiB each, made in allocate(); two blocks an
    # array (the object and its buffer).
    assert 4096 * 10 <= size < 4096 * 10 * 1.1
    assert 20 <= blocks < 22
    assert site.startswith("tests/bench/test_census.py:")
    assert site.split("  <  ")[0] == f"tests/bench/test_census.py:{allocate_line()}"
    # The last row is the total of every site, not only of those shown.
    total = rows[-1]
    assert total[2] == "TOTAL"
    assert total[0] >= size


def test_by_own_frame_names_the_projects_innermost_frame(snapshots):
    before, after = snapshots
    rows = census.table(before, after, count=10, depth=2, top=3, by_own=True)
    assert rows[0][2] == f"tests/bench/test_census.py:{allocate_line()}"


def test_frames_outside_the_project_are_named_from_the_library_down():
    library = tracemalloc.Frame(("/x/.venv/lib/python3.12/site-packages/daphne/server.py", 7))
    standard = tracemalloc.Frame(("/usr/lib/python3.12/asyncio/events.py", 3))
    assert census.short(library) == "daphne/server.py:7"
    assert census.short(standard) == "asyncio/events.py:3"
    assert census.short(tracemalloc.Frame((str(ROOT / "chat" / "events.py"), 5))) == (
        "chat/events.py:5"
    )
    assert not census.own(library.filename)
    assert not census.own(str(ROOT / "bench" / "census.py"))
    assert census.own(str(ROOT / "realtime" / "hub" / "hub.py"))
    assert census.own(str(ROOT / "tests" / "bench" / "test_census.py"))


def allocate_line() -> int:
    code = allocate.__code__
    return code.co_firstlineno + 1
