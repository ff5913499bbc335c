"""Task worker rules as pure functions: retry schedule and stale-task detection."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


def backoff_delay(attempt: int, *, base: float, cap: float) -> float:
    """Seconds to wait before attempt `attempt + 1`, after attempt `attempt` failed: `base`,
    then doubling each time, never more than `cap`."""
    if attempt < 1:
        raise ValueError("attempts are numbered from 1")
    return float(min(cap, base * 2 ** (attempt - 1)))


def backoff_schedule(attempts: int, *, base: float, cap: float) -> list[float]:
    """The waits between `attempts` tries (one fewer than the tries)."""
    return [backoff_delay(n, base=base, cap=cap) for n in range(1, attempts)]


@dataclass(frozen=True)
class RunningTask:
    id: str
    worker_id: str | None  # the worker that claimed it last
    started_at: datetime | None


def stale_task_ids(
    running: Iterable[RunningTask], *, live_workers: set[str], now: datetime, grace: timedelta
) -> list[str]:
    """Running tasks whose worker is gone: no recent heartbeat from it, and claimed longer
    ago than `grace` (a worker that just started may not have beaten yet)."""
    stale = []
    for task in running:
        if task.worker_id in live_workers:
            continue
        if task.started_at is not None and now - task.started_at < grace:
            continue
        stale.append(task.id)
    return stale
