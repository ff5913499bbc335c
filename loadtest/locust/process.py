"""What one Locust process (master, worker or single) knows of the current run, and the
small helpers every part of the kit's Locust side shares."""

import logging
import os
import time
from argparse import Namespace
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from locust.env import Environment

from loadtest.locust.ledger import Ledger
from loadtest.locust.safety import (
    ALLOW_REMOTE_ENV,
    env_flag,
)
from loadtest.locust.samples import SampleWriter
from loadtest.locust.scenarios import (
    Plan,
    read_users,
)
from loadtest.locust.siteclient import SiteClient

logger = logging.getLogger("loadtest")


class Refused(Exception):
    """A request the server answered, but not as hoped."""


@dataclass
class ProcessState:
    """This process's part of the current run."""

    plan: Plan | None = None
    slot: int = 0
    slots: int = 1
    users_started: int = 0
    test_number: int = 0
    stopping: int = -1  # the test_number whose end is being handled
    ledger: Ledger = field(default_factory=Ledger)
    users: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    workers: list[str] = field(default_factory=list)  # master: the workers given the plan
    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)  # master: their ledgers
    started_at: float = 0.0
    warned: set[str] = field(default_factory=set)
    staff: tuple[SiteClient, str] | None = None  # the announcer's signed-in client and token
    verdict: bool | None = None  # the thresholds' verdict of the last run
    samples: SampleWriter | None = None  # --samples-csv: this process's raw timings
    announcer_failures: int = 0

    def start(self, plan: Plan, slot: int, slots: int) -> None:
        self.plan = plan
        self.slot, self.slots = slot, slots
        self.users_started = 0
        self.test_number += 1
        self.ledger = Ledger(grace=plan.grace, settle=plan.settle)
        self.snapshots = {}
        self.announcer_failures = 0
        self.started_at = time.time()

    def rows(self, path: str) -> list[tuple[str, str]]:
        if path not in self.users:
            self.users[path] = read_users(path)
        return self.users[path]

    def warn_once(self, key: str, message: str, *args: object) -> None:
        if key not in self.warned:
            self.warned.add(key)
            logger.error(message, *args)


STATE = ProcessState()


def options_of(environment: Environment) -> Namespace:
    return environment.parsed_options or Namespace()


def allow_remote(options: Namespace) -> bool:
    return bool(getattr(options, "allow_remote", False)) or env_flag(os.environ, ALLOW_REMOTE_ENV)


def fire(
    environment: Environment,
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    exception: BaseException | None = None,
) -> None:
    # Locust's EventHook.fire is not annotated; call it through a typed name.
    fire_request: Callable[..., None] = environment.events.request.fire
    fire_request(
        request_type=request_type,
        name=name,
        response_time=response_time,
        response_length=response_length,
        exception=exception,
        context={},
    )
