"""A run on the Locust side: start-up checks, the plan handed to every process, the
announcer, and the bookkeeping that turns every process's view into one summary and a
verdict (the user itself is in socket_user.py).

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
   while the sockets keep receiving, then asks every worker for its ledger (ledger.py),
   combines them with its own (delivery.py), logs the completeness summary, writes it next
   to the CSV files (`PREFIX_delivery.json`), checks the thresholds (thresholds.py), writes
   them too (`PREFIX_thresholds.csv`), and sets Locust's exit code from them: 0 only when
   every threshold held.

Start-up checks (preflight.py) refuse a run that could not measure what it claims: no
target, a malformed users CSV, more users than sessions, a staff session that cannot post, a
room that does not exist.
"""

import os
import time
from argparse import Namespace
from typing import Any

import locust.runners
from locust import events
from locust.env import Environment
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
from loadtest.locust.delivery import (
    ANNOUNCEMENTS,
    format_summary,
    summarise,
)
from loadtest.locust.markers import ANNOUNCER, Marker, make_body
from loadtest.locust.options import STAFF_PASSWORD_ENV, new_run_id, plan_from
from loadtest.locust.preflight import (
    StartupError,
    check_announcements,
    check_rooms,
    check_signed_in,
    check_staff,
    check_user_count,
)
from loadtest.locust.process import STATE, Refused, allow_remote, fire, logger, options_of
from loadtest.locust.results import output_paths, write_json, write_thresholds_csv
from loadtest.locust.safety import (
    UnsafeTarget,
    bounded_run_time,
    check_target,
    check_targets,
)
from loadtest.locust.samples import SampleWriter, worker_path
from loadtest.locust.scenarios import (
    Plan,
    with_storm_times,
)
from loadtest.locust.siteclient import SiteClient, SiteError

PLAN_MESSAGE = "loadtest_plan"
QUIESCE_MESSAGE = "loadtest_quiesce"
COLLECT_MESSAGE = "loadtest_collect"
SNAPSHOT_MESSAGE = "loadtest_snapshot"
COLLECT_TIMEOUT = 20.0  # seconds the master waits for the workers' ledgers
ORPHAN_TIMEOUT = 10  # seconds a worker keeps going without hearing from its master


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
        plan = with_storm_times(
            plan_from(options, new_run_id()),
            now=time.time(),
            run_time=bounded_run_time(getattr(options, "run_time", None)),
            ramp=ramp_time(options),
        )
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
    run_time = getattr(options, "run_time", None)
    if environment.shape_class is not None or not (getattr(options, "headless", False) or run_time):
        # A web-UI run without a run time, or a run with a load shape (whose ticks Locust
        # follows instead of --run-time): Locust would run it until stopped.
        limit = bounded_run_time(run_time)
        runner.greenlet.spawn(stop_after, runner, limit, STATE.test_number)


def ramp_time(options: Namespace) -> float:
    """Seconds until Locust has started every user (-u at -r per second)."""
    users, rate = getattr(options, "num_users", None), getattr(options, "spawn_rate", None)
    return float(users) / float(rate) if users and rate else 0.0


def stop_after(runner: Runner, seconds: float, test_number: int) -> None:
    """Bound a run that Locust itself would not stop."""
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
    criteria = thresholds.thresholds_for(
        getattr(options, "threshold", None) or [], messages=plan.sends_messages()
    )
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
