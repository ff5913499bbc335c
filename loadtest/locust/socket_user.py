"""The Locust side of the kit: one user per browser tab on a room page, and the bookkeeping
that turns every process's view into one completeness summary.

How a run goes:

1. `init`: the master (or the single process) checks the target (safety.py), bounds the run
   time and validates the scenario options; workers register for the kit's messages.
2. `test_start`: the master makes the run's `Plan` (scenarios.py) with a fresh run id,
   makes sure the plan's rooms exist, and sends each worker the plan and its slot, so users
   across workers take distinct rows of the users CSV. With announcements on, it starts the
   announcer: a staff session posting over HTTP.
3. Each user opens the page socket with its session cookie and Origin, then receives, and
   sends if the plan says so. It reports to Locust (request type "WS"): `connect` (handshake
   to the first frame of an accepted socket, see connecting.py), `refused CODE NAME` and
   `connect failed` (failures), `drop CODE NAME` (an open socket the server or the network
   closed), `deliver` (message fan-out latency from the sender's timestamp), `announcement`,
   `replay` (caught up after reconnecting), `ack` (send to acknowledgement). A user refused
   for good (4401, 4403, 4404, 4409) stops; after any other failure or drop it waits a
   full-jitter delay, as the page does, and connects again.
4. `test_stopping`: the master tells every worker to stop sending, waits `settle` seconds
   while the sockets keep receiving, then asks every worker for its ledger (delivery.py),
   combines them with its own, logs the completeness summary, writes it next to the CSV
   files (`PREFIX_delivery.json`), checks the thresholds (thresholds.py), writes them too
   (`PREFIX_thresholds.csv`), and sets Locust's exit code from them: 0 only when every
   threshold held.

Start-up checks (preflight.py) refuse a run that could not measure what it claims: no
target, a malformed users CSV, more users than sessions, a staff session that cannot post, a
room that does not exist.
"""

import json
import logging
import math
import os
import random
import time
import uuid
from argparse import Namespace
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import locust.runners
import websocket
from locust import User, constant, events, task
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.exception import StopUser
from locust.rpc import Message
from locust.runners import (
    STATE_MISSING,
    STATE_RUNNING,
    STATE_SPAWNING,
    MasterRunner,
    Runner,
    WorkerRunner,
)

from loadtest.locust import thresholds
from loadtest.locust.connecting import (
    REFUSAL_WINDOW,
    FirstFrame,
    close_name,
    first_frame,
    full_jitter_delay,
    refused_for_good,
)
from loadtest.locust.delivery import (
    ANNOUNCEMENTS,
    Connection,
    Inbox,
    Ledger,
    Seen,
    format_summary,
    summarise,
)
from loadtest.locust.markers import ANNOUNCER, Frame, Kind, Marker, classify, make_body
from loadtest.locust.preflight import (
    StartupError,
    check_announcements,
    check_rooms,
    check_signed_in,
    check_staff,
    check_user_count,
)
from loadtest.locust.results import output_paths, write_json, write_thresholds_csv
from loadtest.locust.safety import (
    ALLOW_REMOTE_ENV,
    UnsafeTarget,
    bounded_run_time,
    check_target,
    check_targets,
    env_flag,
    http_origin,
    socket_url,
)
from loadtest.locust.samples import SampleWriter, worker_path
from loadtest.locust.scenarios import (
    Plan,
    Scenario,
    make_plan,
    next_storm,
    read_users,
    user_index,
)
from loadtest.locust.siteclient import SiteClient, SiteError

logger = logging.getLogger("loadtest")

PLAN_MESSAGE = "loadtest_plan"
QUIESCE_MESSAGE = "loadtest_quiesce"
COLLECT_MESSAGE = "loadtest_collect"
SNAPSHOT_MESSAGE = "loadtest_snapshot"
COLLECT_TIMEOUT = 20.0  # seconds the master waits for the workers' ledgers
CONNECT_TIMEOUT = 20.0
ACK_WAIT = 2.0  # seconds a socket about to drop waits for its sends to be acknowledged
ORPHAN_TIMEOUT = 10  # seconds a worker keeps going without hearing from its master
STAFF_PASSWORD_ENV = "LOADTEST_STAFF_PASSWORD"  # noqa: S105 - the variable's name, not a secret
CLOSE_NORMAL = 1000

# Options whose value, when given, overrides the scenario preset (Plan field names).
PLAN_OPTIONS = (
    "room",
    "rooms",
    "room_prefix",
    "senders",
    "send_rate",
    "message_bytes",
    "storm_every",
    "storm_jitter",
    "announce_every",
    "settle",
    "grace",
)


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


# -- options ------------------------------------------------------------------------------


@events.init_command_line_parser.add_listener
def add_arguments(parser: LocustArgumentParser, **_kwargs: Any) -> None:
    scenarios = ", ".join(s.value for s in Scenario)
    parser.add_argument(
        "--scenario",
        choices=[s.value for s in Scenario],
        default=Scenario.FANOUT.value,
        env_var="LOADTEST_SCENARIO",
        help=f"Load-test preset: {scenarios} (see loadtest/README.md)",
    )
    parser.add_argument(
        "--users-csv",
        default="users.csv",
        env_var="LOADTEST_USERS_CSV",
        help="username,sessionid rows from `manage.py loadtest_users` (on every worker too)",
    )
    parser.add_argument("--room", help="the room's slug (default load-test)")
    parser.add_argument("--rooms", type=int, help="chatty: how many rooms (default 10)")
    parser.add_argument("--room-prefix", help="chatty: room slugs are PREFIX-01 .. PREFIX-NN")
    parser.add_argument("--senders", type=int, help="how many users send; -1 for everyone")
    parser.add_argument("--send-rate", type=float, help="messages per second per sender")
    parser.add_argument("--message-bytes", type=int, help="pad message bodies to this size")
    parser.add_argument("--storm-every", type=float, help="reconnect: seconds between storms")
    parser.add_argument("--storm-jitter", type=float, help="reconnect: spread of a storm (s)")
    parser.add_argument(
        "--no-resume", action="store_true", help="reconnect without asking for missed messages"
    )
    parser.add_argument("--announce-every", type=float, help="seconds between announcements")
    parser.add_argument(
        "--settle",
        type=float,
        help="seconds before a socket closes whose sends are not counted (default 3)",
    )
    parser.add_argument(
        "--grace", type=float, help="seconds after opening not counted (clock skew; default 0)"
    )
    parser.add_argument(
        "--staff-username",
        env_var="LOADTEST_STAFF_USERNAME",
        help=f"announce: staff account to post as (password in ${STAFF_PASSWORD_ENV})",
    )
    parser.add_argument(
        "--staff-session",
        env_var="LOADTEST_STAFF_SESSION",
        is_secret=True,
        help="announce: a signed-in staff session id, instead of --staff-username",
    )
    parser.add_argument(
        "--origin", env_var="LOADTEST_ORIGIN", help="Origin header (default: the --host origin)"
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help=f"allow a target other than this machine (or set {ALLOW_REMOTE_ENV}=1)",
    )
    parser.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="CRITERION",
        help=(
            "pass/fail criterion, e.g. 'deliver_p99<=500' (repeat for more); defaults: "
            + ", ".join(thresholds.DEFAULTS)
            + "; metrics: "
            + ", ".join(thresholds.METRICS)
        ),
    )
    parser.add_argument(
        "--share-sessions",
        action="store_true",
        help="allow more users than rows in the users CSV (users then share sessions)",
    )
    parser.add_argument(
        "--create-room",
        action="store_true",
        help="create the plan's rooms (public) if they do not exist, instead of refusing",
    )
    parser.add_argument(
        "--allow-announcements",
        action="store_true",
        help="allow announcements on a target other than this machine (they notify everyone)",
    )
    parser.add_argument(
        "--samples-csv",
        metavar="PATH",
        help="write every timing as a CSV row (workers: PATH-wN.csv on their own machine)",
    )
    parser.add_argument(
        "--delivery-json",
        help="where to write the completeness summary (default PREFIX_delivery.json with --csv)",
    )


def options_of(environment: Environment) -> Namespace:
    return environment.parsed_options or Namespace()


def allow_remote(options: Namespace) -> bool:
    return bool(getattr(options, "allow_remote", False)) or env_flag(os.environ, ALLOW_REMOTE_ENV)


def plan_from(options: Namespace, run: str) -> Plan:
    overrides = {name: getattr(options, name, None) for name in PLAN_OPTIONS}
    if getattr(options, "no_resume", False):
        overrides["resume"] = False
    return make_plan(getattr(options, "scenario", Scenario.FANOUT.value), overrides, run)


def new_run_id() -> str:
    return uuid.uuid4().hex[:8]


# -- the run, on the master or the single process ----------------------------------------


@events.init.add_listener
def on_init(environment: Environment, runner: Runner | None = None, **_kwargs: Any) -> None:
    if isinstance(runner, WorkerRunner):
        # A worker whose master died stops soon, instead of holding its sockets for a minute.
        locust.runners.MASTER_HEARTBEAT_TIMEOUT = ORPHAN_TIMEOUT
        runner.register_message(PLAN_MESSAGE, on_plan_message)
        runner.register_message(QUIESCE_MESSAGE, on_quiesce_message)
        runner.register_message(COLLECT_MESSAGE, on_collect_message)
        return
    if runner is None:
        return
    options = options_of(environment)
    try:
        preflight(environment, options)
    except (UnsafeTarget, ValueError, StartupError, SiteError, OSError) as error:
        raise SystemExit(f"loadtest: refusing to start: {error}") from None
    if getattr(options, "headless", False) and not getattr(options, "run_time", None):
        options.run_time = bounded_run_time(None)
        logger.info("No --run-time given: this run stops after %s s.", options.run_time)
    if isinstance(runner, MasterRunner):
        runner.register_message(SNAPSHOT_MESSAGE, on_snapshot_message)


def preflight(environment: Environment, options: Namespace) -> None:
    """Refuse a run that could not measure what it claims (see preflight.py)."""
    plan = plan_from(options, "check")
    thresholds.thresholds_for(getattr(options, "threshold", None) or [])
    headless = bool(getattr(options, "headless", False) or getattr(options, "autostart", False))
    if not environment.host:
        if headless:
            check_target(None, allow_remote=False)  # raises: no target
        return  # the web UI asks for the host; test_start checks it
    base_url = check_targets(environment.host, allow_remote=allow_remote(options))[0]
    path = getattr(options, "users_csv", "users.csv")
    rows = STATE.rows(path)
    users = getattr(options, "num_users", None)
    check_user_count(rows, users, path=path, share=bool(getattr(options, "share_sessions", False)))
    check_announcements(
        plan, base_url, allowed=bool(getattr(options, "allow_announcements", False))
    )
    username, session = rows[0]
    client = SiteClient(base_url, session=session)
    check_signed_in(client, "/", who=f"The session of {username} in {path}")
    check_rooms(
        client, plan, create=bool(getattr(options, "create_room", False)), who=f"{username}"
    )
    if plan.announce_every:
        STATE.staff = staff_client(base_url, options)


def staff_client(base_url: str, options: Namespace) -> tuple[SiteClient, str]:
    session = (getattr(options, "staff_session", None) or "").strip()
    client = SiteClient(base_url, session=session)
    if not session:
        username = (getattr(options, "staff_username", None) or "").strip()
        password = os.environ.get(STAFF_PASSWORD_ENV, "")
        if not username or not password:
            raise StartupError(
                f"Announcements need --staff-session, or --staff-username and ${STAFF_PASSWORD_ENV}"
            )
        client.sign_in(username, password)
    return client, check_staff(client)


@events.test_start.add_listener
def on_test_start(environment: Environment, **_kwargs: Any) -> None:
    runner = environment.runner
    if runner is None or isinstance(runner, WorkerRunner):
        return
    options = options_of(environment)
    STATE.plan = None
    try:
        base_url = check_targets(environment.host, allow_remote=allow_remote(options))[0]
        plan = plan_from(options, new_run_id())
        if STATE.staff is None and plan.announce_every:
            STATE.staff = staff_client(base_url, options)
    except (UnsafeTarget, ValueError, StartupError, SiteError, OSError) as error:
        logger.error("loadtest: %s. No user will connect.", error)
        runner.greenlet.spawn(runner.stop)
        return
    STATE.start(plan, 0, 1)
    open_samples(getattr(options, "samples_csv", None))
    logger.info("loadtest: %s", plan.describe())
    if isinstance(runner, MasterRunner):
        workers = [c.id for c in runner.clients.all if c.state != STATE_MISSING]
        STATE.workers = workers
        for slot, client_id in enumerate(workers):
            data = {
                "plan": plan.as_dict(),
                "slot": slot,
                "slots": len(workers),
                "samples": getattr(options, "samples_csv", None),
            }
            runner.send_message(PLAN_MESSAGE, data, client_id=client_id)
    if plan.announce_every:
        runner.greenlet.spawn(announce, environment, plan, base_url, STATE.test_number)
    if not getattr(options, "headless", False) and not getattr(options, "run_time", None):
        # A web-UI run without a run time: Locust would run it until stopped.
        limit = bounded_run_time(None)
        runner.greenlet.spawn(stop_after, runner, limit, STATE.test_number)


def stop_after(runner: Runner, seconds: float, test_number: int) -> None:
    """Bound a web-UI run that was started without a run time."""
    time.sleep(seconds)
    running = runner.state in (STATE_SPAWNING, STATE_RUNNING)
    if STATE.test_number == test_number and STATE.stopping != test_number and running:
        logger.warning("loadtest: stopping the run after %s s (set a run time to change)", seconds)
        runner.stop()


def announce(environment: Environment, plan: Plan, base_url: str, test_number: int) -> None:
    """Post an announcement every `plan.announce_every` seconds as staff."""
    name = "/notifications/announce/"
    if STATE.staff is None:
        STATE.announcer_failures += 1
        fire(environment, "POST", name, 0, 0, Refused("the announcer has no staff session"))
        return
    client, token = STATE.staff
    next_at = time.time() + plan.announce_every
    seq = 0
    while STATE.test_number == test_number and not STATE.ledger.quiesced:
        time.sleep(max(0.0, next_at - time.time()))
        if STATE.test_number != test_number or STATE.ledger.quiesced:
            break
        sent_at = time.time()
        body = make_body(Marker(plan.run, ANNOUNCER, seq, sent_at), plan.message_bytes)
        seq += 1
        try:
            status, elapsed = client.announce(body, token)
        except OSError as failure:
            STATE.announcer_failures += 1
            fire(environment, "POST", name, (time.time() - sent_at) * 1000, 0, failure)
        else:
            published = status == 302
            refused = None if published else Refused(f"HTTP {status}")
            fire(environment, "POST", name, elapsed, 0, refused)
            if published:
                STATE.ledger.record_send(ANNOUNCEMENTS, sent_at)
            else:
                STATE.announcer_failures += 1
        next_at = max(next_at + plan.announce_every, time.time())


@events.test_stopping.add_listener
def on_test_stopping(environment: Environment, **_kwargs: Any) -> None:
    runner = environment.runner
    if runner is None or isinstance(runner, WorkerRunner) or STATE.plan is None:
        return
    if STATE.stopping == STATE.test_number:
        return  # already ending this run (stop and quit both fire this)
    STATE.stopping = STATE.test_number
    plan = STATE.plan
    if isinstance(runner, MasterRunner):
        for client_id in STATE.workers:
            runner.send_message(QUIESCE_MESSAGE, {"run": plan.run}, client_id=client_id)
    STATE.ledger.quiesce(time.time())
    logger.info("loadtest: sending stopped; receiving for %s s more", plan.settle)
    time.sleep(plan.settle)
    if isinstance(runner, MasterRunner):
        for client_id in STATE.workers:
            runner.send_message(COLLECT_MESSAGE, {"run": plan.run}, client_id=client_id)
        deadline = time.monotonic() + COLLECT_TIMEOUT
        while awaited(runner) and time.monotonic() < deadline:
            time.sleep(0.1)
    missing_ledgers = len(STATE.workers) - len(STATE.snapshots)
    if missing_ledgers:
        logger.error(
            "loadtest: %d of %d workers sent no ledger: what they sent and received is "
            "unknown, so this run fails",
            missing_ledgers,
            len(STATE.workers),
        )
    stopped_at = time.time()
    snapshots = [STATE.ledger.snapshot(stopped_at), *STATE.snapshots.values()]
    summary = summarise(snapshots)
    summary["plan"] = plan.as_dict()
    summary["host"] = environment.host
    summary["started_at"] = STATE.started_at
    summary["stopped_at"] = stopped_at
    summary["missing_ledgers"] = missing_ledgers
    summary["announcer_failures"] = STATE.announcer_failures
    options = options_of(environment)
    criteria = thresholds.thresholds_for(getattr(options, "threshold", None) or [])
    values = thresholds.metrics_of(summary, percentiles(environment))
    rows = thresholds.evaluate(criteria, values)
    summary["metrics"] = values
    summary["thresholds"] = rows
    summary["passed"] = thresholds.verdict(rows)
    STATE.verdict = summary["passed"]
    logger.info("loadtest: %s", plan.describe())
    for line in [*format_summary(summary).splitlines(), *thresholds.format_rows(rows).splitlines()]:
        logger.info("%s", line)
    write_summary(options, summary)


def awaited(runner: MasterRunner) -> list[str]:
    """The workers whose ledger has not arrived and that Locust does not count as gone."""
    return [
        client_id
        for client_id in STATE.workers
        if client_id not in STATE.snapshots
        and (client := runner.clients.get(client_id)) is not None
        and client.state != STATE_MISSING
    ]


def percentiles(environment: Environment) -> dict[str, float | None]:
    """p95 and p99 of successful connects and of live deliveries, from Locust's statistics."""
    values: dict[str, float | None] = {}
    for name in ("connect", "deliver"):
        entry = environment.stats.entries.get((name, "WS"))
        for percent in (95, 99):
            value = None
            if entry is not None and entry.num_requests > 0:
                value = float(entry.get_response_time_percentile(percent / 100))
            values[f"{name}_p{percent}"] = value
    return values


def write_summary(options: Namespace, summary: dict[str, Any]) -> None:
    json_path, csv_path = output_paths(
        delivery_json=getattr(options, "delivery_json", None),
        csv_prefix=getattr(options, "csv_prefix", None),
    )
    if json_path:
        write_json(json_path, summary)
        logger.info("loadtest: completeness summary written to %s", json_path)
    if csv_path:
        write_thresholds_csv(csv_path, summary["thresholds"])


@events.quitting.add_listener
def on_quitting(environment: Environment, **_kwargs: Any) -> None:
    """The exit code follows the thresholds: request failures alone do not decide it."""
    if isinstance(environment.runner, WorkerRunner) or STATE.verdict is None:
        return
    environment.process_exit_code = 0 if STATE.verdict else 1


def on_snapshot_message(environment: Environment, msg: Message, **_kwargs: Any) -> None:
    data = msg.data
    if STATE.plan is not None and isinstance(data, dict) and data.get("run") == STATE.plan.run:
        STATE.snapshots[msg.node_id] = data


# -- the workers ---------------------------------------------------------------------------


def on_plan_message(environment: Environment, msg: Message, **_kwargs: Any) -> None:
    data = msg.data
    STATE.start(Plan.from_dict(data["plan"]), int(data["slot"]), int(data["slots"]))
    path = data.get("samples")
    open_samples(worker_path(path, STATE.slot) if path else None)


def open_samples(path: str | None) -> None:
    if STATE.samples is not None:
        STATE.samples.close()
        STATE.samples = None
    if path:
        STATE.samples = SampleWriter(path)


@events.quitting.add_listener
def close_samples(**_kwargs: Any) -> None:
    open_samples(None)


def on_quiesce_message(environment: Environment, msg: Message, **_kwargs: Any) -> None:
    if STATE.plan is not None and msg.data.get("run") == STATE.plan.run:
        STATE.ledger.quiesce(time.time())


def on_collect_message(environment: Environment, msg: Message, **_kwargs: Any) -> None:
    runner = environment.runner
    plan = STATE.plan
    if runner is None or plan is None or msg.data.get("run") != plan.run:
        return
    snapshot = STATE.ledger.snapshot(time.time())
    snapshot["run"] = plan.run
    runner.send_message(SNAPSHOT_MESSAGE, snapshot)


# -- the user ------------------------------------------------------------------------------


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


def hang_up(ws: websocket.WebSocket) -> None:
    """Close the TCP connection without the closing handshake."""
    shutdown: Callable[[], None] = ws.shutdown
    shutdown()


def close_status(data: bytes | str) -> int:
    raw = data.encode() if isinstance(data, str) else data
    return int.from_bytes(raw[:2], "big") if len(raw) >= 2 else 1005


class PageSocketUser(User):
    """A signed-in browser tab on a room page: one socket, opened the way the page opens it,
    and kept open (or dropped and reopened, as the scenario says) until the run ends."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.ready = False
        self.ws: websocket.WebSocket | None = None
        self.connection: Connection | None = None
        self.inbox = Inbox()
        self.pending: dict[str, tuple[float, int]] = {}  # client id -> (sent at, seq), until acked
        self.seq = 0
        self.last_message_id = 0
        self.retries = 0  # failed attempts since the last socket that opened (the page's count)
        self.connections = 0
        plan = STATE.plan
        options = options_of(self.environment)
        if plan is None:
            STATE.warn_once("plan", "loadtest: this process has no plan for the run")
            return
        try:
            hosts = check_targets(self.host, allow_remote=allow_remote(options))
            rows = STATE.rows(options.users_csv)
        except (UnsafeTarget, OSError, ValueError) as error:
            STATE.warn_once("start", "loadtest: %s", error)
            return
        self.plan = plan
        self.index = user_index(STATE.slot, STATE.slots, STATE.users_started)
        STATE.users_started += 1
        if self.index >= len(rows):
            STATE.warn_once(
                "rows",
                "loadtest: more users than rows in %s; some sessions open several sockets",
                options.users_csv,
            )
        self.username, self.session_key = rows[self.index % len(rows)]
        self.person = str(self.index)
        self.base_url = hosts[self.index % len(hosts)]  # users spread over the servers
        self.room = plan.room_for(self.index)
        self.sender = f"u{self.index}"
        self.sends = plan.sends(self.index)
        # Jitter, not secrets: seeded per user so a run's schedule can be reproduced.
        self.rng = random.Random(f"{plan.run}-{self.index}")  # noqa: S311
        self.origin = getattr(options, "origin", None) or http_origin(self.base_url)
        self.url = socket_url(self.base_url, f"/ws/?room={self.room}")
        self.ready = True

    def on_stop(self) -> None:
        self.disconnect(deliberate=True)

    @task
    def keep_the_page_open(self) -> None:
        if not self.ready:
            raise StopUser()
        ws = self.connect()
        if ws is None:
            self.back_off()
            return
        self.retries = 0
        deliberate = False
        try:
            deliberate = self.converse(ws)
        finally:
            self.disconnect(deliberate=deliberate)
        # Dropped by the server, or by a storm (which stands for a server restart): the page
        # reconnects after a full-jitter delay either way.
        self.back_off()

    def back_off(self) -> None:
        """Wait before connecting again, as the page does (full jitter, growing)."""
        time.sleep(full_jitter_delay(self.retries, self.rng))
        self.retries += 1

    # -- the socket's life

    def connect(self) -> websocket.WebSocket | None:
        started = time.time()
        ws = None
        try:
            ws = websocket.create_connection(
                self.url,
                timeout=CONNECT_TIMEOUT,
                origin=self.origin,
                cookie=f"sessionid={self.session_key}",
                enable_multithread=False,
            )
            opened_at = time.time()
            frames = self.await_acceptance(ws)
        except websocket.WebSocketBadStatusException as error:
            self.connect_failed(ws, started, "connect failed", f"HTTP {error.status_code}", error)
            return None
        except websocket.WebSocketTimeoutException as error:
            self.connect_failed(ws, started, "connect failed", "timeout", error)
            return None
        except (websocket.WebSocketException, OSError) as error:
            reason = type(error).__name__
            self.connect_failed(ws, started, "connect failed", reason, error)
            return None
        if isinstance(frames, int):
            code = frames
            refusal = Refused(f"refused with close code {close_name(code)}")
            self.connect_failed(
                ws, started, f"refused {close_name(code)}", close_name(code), refusal
            )
            if refused_for_good(code):
                STATE.warn_once(
                    f"close-{code}", "loadtest: the server refused sockets for good: %s", refusal
                )
                STATE.ledger.left(self.person, time.time())
                raise StopUser()
            return None
        ready_at = time.time()
        length = sum(len(frame) for frame in frames)
        self.measure("connect", (ready_at - started) * 1000, length)
        self.ws = ws
        STATE.ledger.joined(self.person, self.room, opened_at)
        self.connection = STATE.ledger.opened(self.room, opened_at, self.base_url)
        for frame in frames:
            self.handle(frame, ready_at)
        self.connections += 1
        if self.plan.resume and self.connections > 1 and self.last_message_id:
            ws.send(json.dumps({"action": "chat.resume", "after": self.last_message_id}))
            self.connection.resumed = True
        return ws

    def await_acceptance(self, ws: websocket.WebSocket) -> list[bytes | str] | int:
        """The first frames of an accepted socket, or the close code of a refused one: the
        server refuses after accepting, with the error line then a close (connecting.py)."""
        opcode, data = ws.recv_data()
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return close_status(data)
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        if first_frame(text) is FirstFrame.ACCEPTED:
            return [data]
        ws.settimeout(REFUSAL_WINDOW)
        try:
            opcode, more = ws.recv_data()
        except websocket.WebSocketTimeoutException:
            return [data]  # still open: an error on an accepted socket, not a refusal
        finally:
            ws.settimeout(CONNECT_TIMEOUT)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return close_status(more)
        return [data, more]

    def connect_failed(
        self,
        ws: websocket.WebSocket | None,
        started: float,
        name: str,
        reason: str,
        error: BaseException,
    ) -> None:
        if ws is not None:
            hang_up(ws)
        fire(self.environment, "WS", name, (time.time() - started) * 1000, 0, error)
        STATE.ledger.connection_failed(reason, self.base_url)

    def converse(self, ws: websocket.WebSocket) -> bool:
        """Receive until the socket closes (False) or the storm drops it (True); send on
        schedule meanwhile."""
        interval = 1 / self.plan.send_rate if self.sends else math.inf
        now = time.time()
        next_send = now + self.rng.uniform(0, interval) if self.sends else math.inf
        drop_at = math.inf
        if self.plan.storm_every:
            offset = self.rng.uniform(0, self.plan.storm_jitter)
            drop_at = next_storm(now, self.plan.storm_every, offset)
        while True:
            now = time.time()
            if STATE.ledger.quiesced:  # the run is ending: only receive from now on
                next_send = drop_at = math.inf
            if now >= drop_at:
                return self.drain(ws)
            if now >= next_send:
                if not self.send(ws):
                    return False
                next_send += interval
                if next_send < now - 1.0:  # more than a second behind: skip, don't burst
                    next_send = now + interval
            wake = min(next_send, drop_at)
            ws.settimeout(None if wake == math.inf else max(wake - time.time(), 0.001))
            if not self.receive(ws):
                return False

    def send(self, ws: websocket.WebSocket) -> bool:
        sent_at = time.time()
        marker = Marker(self.plan.run, self.sender, self.seq, sent_at)
        client_id = str(uuid.uuid4())
        frame = {
            "action": "chat.send",
            "body": make_body(marker, self.plan.message_bytes),
            "client_id": client_id,
        }
        try:
            ws.send(json.dumps(frame))
        except (websocket.WebSocketException, OSError) as error:
            self.dropped(f"send: {type(error).__name__}")
            return False
        self.pending[client_id] = (sent_at, self.seq)
        STATE.ledger.sent(self.room, self.sender, self.seq, sent_at)
        self.seq += 1
        return True

    def receive(self, ws: websocket.WebSocket) -> bool:
        """One frame, or a timeout; False once the socket is gone."""
        try:
            opcode, data = ws.recv_data()
        except websocket.WebSocketTimeoutException:
            return True
        except (websocket.WebSocketException, OSError) as error:
            self.dropped(type(error).__name__)
            return False
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            self.dropped(close_name(close_status(data)))
            return False
        self.handle(data, time.time())
        return True

    def measure(self, name: str, ms: float, length: int) -> None:
        """A successful timing: to Locust, and to the ledger's per-second percentiles."""
        fire(self.environment, "WS", name, ms, length)
        now = time.time()
        STATE.ledger.record_latency(name, now, ms)
        if STATE.samples is not None:
            STATE.samples.write(
                at=now, name=name, ms=ms, host=self.base_url, room=self.room, user=self.username
            )

    def dropped(self, reason: str) -> None:
        """The server or the network closed a socket this user meant to keep."""
        STATE.ledger.dropped(reason, self.base_url)
        fire(self.environment, "WS", f"drop {reason}", 0, 0, Refused(f"socket closed: {reason}"))

    def drain(self, ws: websocket.WebSocket) -> bool:
        """Before a deliberate drop: wait a little for outstanding acknowledgements."""
        deadline = time.time() + ACK_WAIT
        while self.pending and time.time() < deadline:
            ws.settimeout(max(deadline - time.time(), 0.001))
            if not self.receive(ws):
                return False
        return True

    def disconnect(self, *, deliberate: bool) -> None:
        if self.connection is not None:
            STATE.ledger.closed(self.connection, time.time())
            self.connection = None
        self.pending.clear()  # the ledger keeps them until they are seen
        ws, self.ws = self.ws, None
        if ws is not None and ws.connected:
            try:
                if deliberate:
                    ws.close(status=CLOSE_NORMAL, timeout=1)
                else:
                    hang_up(ws)
            except (websocket.WebSocketException, OSError):
                hang_up(ws)

    # -- what arrives

    def handle(self, data: bytes | str, received_at: float) -> None:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        frame = classify(text)
        if frame.kind in (Kind.ACK, Kind.REJECTED):
            self.acknowledged(frame, received_at, len(text))
        elif frame.kind in (Kind.MESSAGE, Kind.REFRESHED):
            refreshed = frame.kind is Kind.REFRESHED
            for message_id, marker in frame.messages:
                self.last_message_id = max(self.last_message_id, message_id)
                if marker is not None and marker.run == self.plan.run:
                    self.deliver(self.room, marker, received_at, len(text), message_id, refreshed)
        elif frame.kind is Kind.ANNOUNCEMENT:
            for marker in frame.markers:
                if marker.run == self.plan.run:
                    self.deliver(ANNOUNCEMENTS, marker, received_at, len(text))

    def acknowledged(self, frame: Frame, received_at: float, length: int) -> None:
        pending = self.pending.pop(frame.answered, None)
        if pending is None:
            return
        sent_at, seq = pending
        rejected = frame.kind is Kind.REJECTED
        error = Refused("the server rejected the message") if rejected else None
        if rejected:
            fire(self.environment, "WS", "ack", (received_at - sent_at) * 1000, length, error)
        else:
            self.measure("ack", (received_at - sent_at) * 1000, length)
        STATE.ledger.record_ack(self.room, self.sender, seq, rejected=rejected)

    def deliver(
        self,
        stream: str,
        marker: Marker,
        received_at: float,
        length: int,
        message_id: int | None = None,
        refreshed: bool = False,
    ) -> None:
        connection = self.connection
        if connection is None:
            return
        seen = self.inbox.see(marker.sender, marker.seq)
        if refreshed and seen is Seen.DUPLICATE:
            return  # the conversation shown again, not a duplicate delivery
        connection.deliver(stream, marker.sent_at, received_at, seen, message_id)
        if seen is Seen.DUPLICATE:
            return
        STATE.ledger.person_received(self.person, stream, marker.sent_at)
        if marker.sender == self.sender:
            STATE.ledger.echoed(stream, self.sender, marker.seq)
        live = marker.sent_at >= connection.start
        if not live and connection.resumed:
            name = "replay"  # most likely caught up by chat.resume; its latency spans the gap
        else:
            name = "announcement" if stream == ANNOUNCEMENTS else "deliver"
        latency = max(0.0, (received_at - marker.sent_at) * 1000)
        self.measure(name, latency, length)
        if live:
            STATE.ledger.record_delivery(received_at)
