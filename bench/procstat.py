"""CPU and memory of running processes, read from /proc (Linux)."""

import asyncio
import bisect
import contextlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
# The pseudo-group of every process on the machine, to tell how busy the rest of it was.
MACHINE = "machine"
# /proc/<pid>/stat fields after the command name: utime and stime are fields 14 and 15.
UTIME_AFTER_NAME = 11
PPID_AFTER_NAME = 1
# Groups whose pid is a parent whose children's CPU counts too.
TREES = frozenset({"postgres"})


def stat_fields(pid: int | str) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state is the first)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int, *, with_children: bool = False) -> float | None:
    """User + system CPU time of `pid` (all its threads), or None if it is gone; with
    `with_children`, also that of the children it has waited for."""
    fields = stat_fields(pid)
    if fields is None:
        return None
    ticks = int(fields[UTIME_AFTER_NAME]) + int(fields[UTIME_AFTER_NAME + 1])
    if with_children:
        ticks += int(fields[UTIME_AFTER_NAME + 2]) + int(fields[UTIME_AFTER_NAME + 3])
    return ticks / TICKS_PER_SECOND


def tree_cpu_seconds(parent: int) -> float:
    """CPU time of `parent` and of every child it has, living or exited (e.g. PostgreSQL's
    postmaster, whose backends come and go with each connection)."""
    total = cpu_seconds(parent, with_children=True) or 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = stat_fields(entry)
        if fields is not None and fields[PPID_AFTER_NAME] == str(parent):
            total += cpu_seconds(int(entry), with_children=True) or 0.0
    return total


def parent_pid(pid: int) -> int | None:
    fields = stat_fields(pid)
    return int(fields[PPID_AFTER_NAME]) if fields else None


def machine_busy_seconds() -> float:
    """CPU time spent by every core on anything but idling, since boot."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of `pid` in KiB; empty if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            lines = status.read().splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines:
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def rss_kb(pid: int) -> int:
    return memory_kb(pid).get("VmRSS", 0)


@dataclass
class Window:
    """CPU use of named groups of processes between `Window.start` and `stop`."""

    groups: Mapping[str, Sequence[int]]
    started: float
    cpu: dict[str, float]

    @classmethod
    def start(cls, groups: Mapping[str, Sequence[int]]) -> "Window":
        return cls(groups=groups, started=time.monotonic(), cpu=cls.read(groups))

    @staticmethod
    def read(groups: Mapping[str, Sequence[int]]) -> dict[str, float]:
        found = {
            name: sum(
                tree_cpu_seconds(pid) if name in TREES else cpu_seconds(pid) or 0.0 for pid in pids
            )
            for name, pids in groups.items()
        }
        found[MACHINE] = machine_busy_seconds()
        return found

    def stop(self) -> dict[str, float]:
        """Percent of one core used by each group over the window, and the window's length."""
        elapsed = max(time.monotonic() - self.started, 1e-6)
        now = self.read(self.groups)
        return cpu_usage(self.cpu, now, elapsed)


@dataclass
class Timeline:
    """CPU time of named groups of processes, sampled in the background, so that usage can be
    computed afterwards over exactly the interval that matters (e.g. first send to last
    delivery). Times are `time.monotonic_ns()`."""

    groups: Mapping[str, Sequence[int]]
    every_s: float = 0.1
    times: list[int] = field(default_factory=list)
    samples: list[dict[str, float]] = field(default_factory=list)
    task: "asyncio.Task[None] | None" = None

    def sample(self) -> None:
        self.times.append(time.monotonic_ns())
        self.samples.append(Window.read(self.groups))

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.every_s)

    async def __aenter__(self) -> "Timeline":
        self.task = asyncio.create_task(self.run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        self.sample()

    def usage(self, start_ns: int, end_ns: int) -> dict[str, float]:
        """Percent of one core used by each group between the samples nearest the bounds."""
        if len(self.times) < 2:
            return {}
        first = min(bisect.bisect_left(self.times, start_ns), len(self.times) - 2)
        last = max(bisect.bisect_left(self.times, end_ns), first + 1)
        last = min(last, len(self.times) - 1)
        elapsed = (self.times[last] - self.times[first]) / 1e9
        return cpu_usage(self.samples[first], self.samples[last], elapsed)


def cpu_usage(
    before: Mapping[str, float], after: Mapping[str, float], elapsed: float
) -> dict[str, float]:
    """Percent of one core per group; `others_cpu_percent` is what the rest of the machine
    used meanwhile (other people's processes on a shared machine skew every number)."""
    usage = {
        f"{name}_cpu_percent": round(100 * (after[name] - before[name]) / elapsed, 1)
        for name in before
    }
    ours = sum(v for k, v in usage.items() if k != f"{MACHINE}_cpu_percent")
    usage["others_cpu_percent"] = round(max(0.0, usage[f"{MACHINE}_cpu_percent"] - ours), 1)
    usage["window_s"] = round(elapsed, 2)
    return usage


async def others_busy(pids: Sequence[int], seconds: float = 1.0) -> float:
    """Percent of one core that processes other than `pids` used over the next `seconds`."""
    before = Window.read({"ours": pids})
    await asyncio.sleep(seconds)
    after = Window.read({"ours": pids})
    return cpu_usage(before, after, seconds)["others_cpu_percent"]


async def wait_for_quiet(
    pids: Sequence[int], *, below_percent: float, at_most_s: float
) -> dict[str, float]:
    """Wait (bounded) until the rest of the machine uses less than `below_percent` of a core,
    so that a scenario does not start while somebody else's job is busy; says how it went."""
    if at_most_s <= 0:
        return {}
    started = time.monotonic()
    busy = await others_busy(pids)
    while busy >= below_percent and time.monotonic() - started < at_most_s:
        busy = await others_busy(pids)
    return {"others_cpu_percent": busy, "waited_s": round(time.monotonic() - started, 1)}
