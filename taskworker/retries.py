"""Running one attempt of a task, and scheduling the next one with backoff if it fails.

django.tasks has no retries of its own: a task that raises is recorded as failed. Tasks here
take an `attempt` argument; a failed attempt enqueues the next one (a new task result, due
after the backoff) before recording its own failure, and the last one gives up.
"""

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.tasks import Task
from django.utils import timezone

from taskworker.logic import backoff_delay

logger = logging.getLogger(__name__)


class Permanent(Exception):
    """A failure that trying again cannot fix (a refused address, an undecodable image); its
    message is shown to the person who asked."""


def enqueue(task: Task[..., None], **kwargs: Any) -> None:
    """Queue `task`; scheduled by actions on commit (`partial(enqueue, task, ...)`)."""
    task.enqueue(**kwargs)


def user_facing(error: Exception, *, shown: tuple[type[Exception], ...] = ()) -> str:
    """What the person who asked is told when a task gives up: the reason itself for a
    Permanent failure or one of the `shown` kinds (written for people), else a general word."""
    if isinstance(error, (Permanent, *shown)):
        return str(error)
    return "Something went wrong; it was tried several times."


def attempt(
    task: Task[..., None],
    *,
    attempt: int,
    kwargs: Mapping[str, Any],
    work: Callable[[], None],
    gave_up: Callable[[Exception], None],
) -> None:
    try:
        work()
    except Permanent as error:
        gave_up(error)
    except Exception as error:
        if attempt >= settings.TASK_RETRY_ATTEMPTS:
            logger.warning("%s gave up after %d attempts", task.name, attempt)
            gave_up(error)
            raise
        delay = backoff_delay(
            attempt, base=settings.TASK_RETRY_BASE_DELAY, cap=settings.TASK_RETRY_MAX_DELAY
        )
        task.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(
            **kwargs, attempt=attempt + 1
        )
        logger.warning("%s attempt %d failed; next one in %.0f s", task.name, attempt, delay)
        raise
    except BaseException:
        # The worker was told to stop in the middle (a second Ctrl+C): this attempt did not
        # finish, so it is queued again as it was.
        task.enqueue(**kwargs, attempt=attempt)
        raise
