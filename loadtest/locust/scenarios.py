"""Scenario presets: what each load-test user does, decided once per run.

Pick one with `--scenario NAME` (or LOADTEST_SCENARIO); any of its settings can be overridden
by its own flag. The master (or the single process) turns the choice into a `Plan`, which
every worker receives, so all processes of a run agree on it.
"""

import csv
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum
from typing import Any


class Scenario(StrEnum):
    IDLE = "idle"
    FANOUT = "fanout"
    CHATTY = "chatty"
    RECONNECT = "reconnect"
    STORM = "storm"
    ANNOUNCE = "announce"


DESCRIPTIONS = {
    Scenario.IDLE: "hold N idle sockets open in one room; measures connect time and drops",
    Scenario.FANOUT: "everyone in one room; a few senders at a steady rate; measures fan-out",
    Scenario.CHATTY: "users spread over several rooms, everyone sends",
    Scenario.RECONNECT: "one busy room; every socket drops and reconnects together, periodically",
    Scenario.STORM: "a quiet room; once everyone is in, every socket drops at the same instant",
    Scenario.ANNOUNCE: "everyone connected; a staff session posts announcements over HTTP",
}

EVERYONE = -1  # `senders` value: every user sends


@dataclass(frozen=True)
class Plan:
    scenario: Scenario
    run: str = "local"  # short id written into every marker of this run
    room: str = "load-test"  # the room, when there is one
    rooms: int = 1  # chatty: this many rooms, ROOM_PREFIX-01 .. ROOM_PREFIX-NN
    room_prefix: str = "load-room"
    senders: int = 0  # how many users send (the first ones); EVERYONE for all
    send_rate: float = 1.0  # messages per second, per sender
    message_bytes: int = 0  # pad message bodies to this many characters
    storm_every: float = 0.0  # reconnect: seconds between storms; 0 for none
    storm_jitter: float = 1.0  # reconnect: spread of each storm, seconds
    storms: int = 0  # how many storms; 0 for no limit
    # Storms fall on origin + k * storm_every (k >= 1): the wall clock's multiples when 0;
    # for a limited number the master sets it to when every user will have started.
    storm_origin: float = 0.0
    # No storm starts after this instant (0: no bound): the master sets it `storm_every`
    # before the run's end, so that every storm has as long to recover as the period.
    storms_until: float = 0.0
    resume: bool = True  # after reconnecting, ask for missed messages like the page does
    announce_every: float = 0.0  # seconds between announcements; 0 for none
    settle: float = 3.0  # see delivery.py
    grace: float = 0.0

    def room_for(self, index: int) -> str:
        if self.rooms > 1:
            return room_slug(self.room_prefix, index % self.rooms + 1)
        return self.room

    def all_rooms(self) -> list[str]:
        if self.rooms > 1:
            return [room_slug(self.room_prefix, n) for n in range(1, self.rooms + 1)]
        return [self.room]

    def sends(self, index: int) -> bool:
        return self.send_rate > 0 and (self.senders == EVERYONE or index < self.senders)

    def sends_messages(self) -> bool:
        """Whether anyone sends anything in this plan (the idle preset: no one)."""
        return bool(self.announce_every) or (self.send_rate > 0 and self.senders != 0)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "scenario": str(self.scenario)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Plan":
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["scenario"] = Scenario(values["scenario"])
        return cls(**values)

    def describe(self) -> str:
        what = f"scenario {self.scenario} (run {self.run}): {DESCRIPTIONS[self.scenario]}"
        rooms = f"{self.rooms} rooms {self.room_prefix}-NN" if self.rooms > 1 else self.room
        senders = "everyone" if self.senders == EVERYONE else str(self.senders)
        details = [f"room {rooms}"]
        if self.senders and self.send_rate > 0:
            details.append(f"senders {senders} at {self.send_rate:g}/s each")
        if self.storm_every and self.storms == 1:
            details.append(
                f"one storm {self.storm_every:g} s after every user started "
                f"(±{self.storm_jitter:g} s)"
            )
        elif self.storm_every:
            limit = f", {self.storms} times" if self.storms else ""
            details.append(
                f"reconnect every {self.storm_every:g} s (±{self.storm_jitter:g} s){limit}"
            )
        if self.announce_every:
            details.append(f"an announcement every {self.announce_every:g} s")
        details.append(f"settle {self.settle:g} s")
        return f"{what}; " + ", ".join(details)


PRESETS: dict[Scenario, dict[str, Any]] = {
    Scenario.IDLE: {},
    Scenario.FANOUT: {"senders": 2, "send_rate": 1.0},
    Scenario.CHATTY: {"rooms": 10, "senders": EVERYONE, "send_rate": 0.2},
    Scenario.RECONNECT: {"senders": 2, "send_rate": 1.0, "storm_every": 15.0},
    Scenario.STORM: {
        "senders": 1,
        "send_rate": 1.0,
        "storm_every": 15.0,
        "storm_jitter": 0.0,
        "storms": 1,
    },
    Scenario.ANNOUNCE: {"announce_every": 5.0},
}


def make_plan(scenario: str, overrides: Mapping[str, Any], run: str = "local") -> Plan:
    """The preset for `scenario` with every override that is not None applied."""
    try:
        chosen = Scenario(scenario)
    except ValueError:
        names = ", ".join(s.value for s in Scenario)
        raise ValueError(f"Unknown scenario {scenario!r}; choose one of {names}") from None
    known = {f.name for f in fields(Plan)} - {"scenario", "run"}
    values = {**PRESETS[chosen]}
    values.update({k: v for k, v in overrides.items() if k in known and v is not None})
    plan = replace(Plan(scenario=chosen, run=run), **values)
    validate(plan)
    return plan


def validate(plan: Plan) -> None:
    numbers = {
        "rooms": plan.rooms,
        "send_rate": plan.send_rate,
        "message_bytes": plan.message_bytes,
        "storm_every": plan.storm_every,
        "storm_jitter": plan.storm_jitter,
        "announce_every": plan.announce_every,
        "settle": plan.settle,
        "grace": plan.grace,
    }
    for name, value in numbers.items():
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a number >= 0, not {value}")
    if plan.rooms < 1:
        raise ValueError("rooms must be at least 1")
    if plan.storms < 0:
        raise ValueError("storms must be >= 0 (0: no limit)")
    if plan.senders < EVERYONE:
        raise ValueError(f"senders must be >= 0, or {EVERYONE} for everyone")
    if 0 < plan.storm_every < 2 * plan.settle:
        raise ValueError(
            f"storm_every ({plan.storm_every:g} s) must be at least twice settle "
            f"({plan.settle:g} s), or no delivery would ever be counted"
        )


def room_slug(prefix: str, number: int) -> str:
    return f"{prefix}-{number:02d}"


def room_name(slug: str) -> str:
    """A display name whose slug is `slug` (for slugs of letters, digits and hyphens)."""
    return slug.replace("-", " ").capitalize()


SESSION_KEY_RE = re.compile(r"^[A-Za-z0-9]{8,64}$")


def read_users(path: str) -> list[tuple[str, str]]:
    """The (username, session id) rows that `manage.py loadtest_users` wrote. Whitespace
    around a field (a CRLF file's trailing CR too) is dropped; any other malformed line, or
    a file with no rows, is a ValueError that names the file and line."""
    try:
        with open(path, newline="") as file:
            lines = list(csv.reader(file))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"Cannot read the users CSV {path}: {error}") from None
    rows = []
    for number, line in enumerate(lines, start=1):
        fields = [field.strip() for field in line]
        if not any(fields):
            continue
        if len(fields) != 2 or not fields[0] or not SESSION_KEY_RE.match(fields[1]):
            raise ValueError(
                f"{path} line {number} is not username,sessionid (as written by "
                f"manage.py loadtest_users)"
            )
        rows.append((fields[0], fields[1]))
    if not rows:
        raise ValueError(f"{path} has no username,sessionid rows; see manage.py loadtest_users")
    return rows


def user_index(slot: int, slots: int, nth: int) -> int:
    """The global index of the nth user started by the process in `slot` of `slots`: users
    interleave across processes, so indexes 0..N-1 are used once each."""
    return slot + nth * max(slots, 1)


def upcoming_storm(now: float, plan: Plan) -> tuple[int, float] | None:
    """The number and planned instant of the plan's next storm after `now`: storm k falls on
    `storm_origin + k * storm_every`, the same instant in every process (each user then adds
    its own jitter); None when the plan has no storm left, or none that would start by
    `storms_until`."""
    if not plan.storm_every:
        return None
    # Storm 1 is the first after the origin, which may lie ahead (users still starting).
    number = max(math.floor((now - plan.storm_origin) / plan.storm_every) + 1, 1)
    if plan.storms and number > plan.storms:
        return None
    start = plan.storm_origin + number * plan.storm_every
    if plan.storms_until and start > plan.storms_until + 0.001:  # a float's error is no limit
        return None
    return number, start


def with_storm_times(plan: Plan, *, now: float, run_time: float, ramp: float = 0.0) -> Plan:
    """The plan of a run starting `now` for `run_time` seconds, whose users are all started
    `ramp` seconds in: no storm starts later than one period before the end, so each has as
    long to recover as the period (a socket not back when the run ends counts as never back,
    storms.py); a limited number of storms is counted from when everyone is in, the same in
    every process."""
    if not plan.storm_every:
        return plan
    origin = now + ramp if plan.storms else plan.storm_origin
    return replace(plan, storm_origin=origin, storms_until=now + run_time - plan.storm_every)
