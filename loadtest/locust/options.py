"""The kit's command-line options (under "Custom parameters" in the web UI), and the run's
plan made from them."""

import uuid
from argparse import Namespace
from typing import Any

from locust import events
from locust.argument_parser import LocustArgumentParser

from loadtest.locust import thresholds
from loadtest.locust.safety import (
    ALLOW_REMOTE_ENV,
)
from loadtest.locust.scenarios import (
    Plan,
    Scenario,
    make_plan,
)

STAFF_PASSWORD_ENV = "LOADTEST_STAFF_PASSWORD"  # noqa: S105 - the variable's name, not a secret

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
    "storms",
    "announce_every",
    "settle",
    "grace",
)

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
        "--storms",
        type=int,
        help="how many storms, counted from the run's start (0: no limit, on the wall clock)",
    )
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


def plan_from(options: Namespace, run: str) -> Plan:
    overrides = {name: getattr(options, name, None) for name in PLAN_OPTIONS}
    if getattr(options, "no_resume", False):
        overrides["resume"] = False
    return make_plan(getattr(options, "scenario", Scenario.FANOUT.value), overrides, run)


def new_run_id() -> str:
    return uuid.uuid4().hex[:8]
