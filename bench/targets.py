"""What is measured: the project and its peers, and how to start each one.

The project runs as it is deployed — DEBUG off, PostgreSQL, the Redis channel layer, Daphne
(or uvicorn: `app-uvicorn`) with the Dockerfile's (or README's) options — and can also be
measured as it was at an earlier commit (`app_at`). Making a target ready to start is
deployment.py; starting and stopping its server, processes.py.
"""

import contextlib
import io
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bench.client import Dialect
from realtime.sockets.urls import on_page, socket_url

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LOCALHOST = "127.0.0.1"


@dataclass(frozen=True)
class Target:
    name: str
    title: str
    dialect: Dialect
    server: Literal["daphne", "uvicorn"] = "daphne"
    uses_redis: bool = False
    uses_postgres: bool = False
    root: Path = ROOT  # where the server runs from: this checkout, or an exported commit

    def socket_path(self, room: str) -> str:
        if self.name == "tutorial":
            return f"/ws/chat/{room}/"
        # As the room page's socket (frontend's base.html): its room, and the page it is on,
        # which enters the person in the room's and the page's presence.
        return on_page(socket_url(room=room), f"/rooms/{room}/")

    def command(self, port: int) -> list[str]:
        if self.name == "websockets":
            return [PYTHON, "-m", "bench.peers.wsserver", "--port", str(port)]
        if self.server == "uvicorn":  # as docs/deployment.md's uvicorn command
            uvicorn = [PYTHON, "-m", "uvicorn", "--host", LOCALHOST, "--port", str(port)]
            return [*uvicorn, *APP_UVICORN_OPTIONS, APPLICATIONS["app"]]
        # Every Daphne target gets the production listen backlog: with Daphne's 50, a burst of
        # handshakes measures the kernel's SYN retries (1 s, 3 s) more than the server.
        endpoint = f"tcp:port={port}:interface={LOCALHOST}:backlog={LISTEN_BACKLOG}"
        daphne = [PYTHON, "-m", "daphne", "-e", endpoint]
        application = self.name.partition("@")[0]
        if application == "app":  # the project runs as its Dockerfile runs it
            daphne += APP_DAPHNE_OPTIONS
        return [*daphne, APPLICATIONS[application]]


LISTEN_BACKLOG = 2048
# The Dockerfile's options (tests/bench checks that they match): a handshake has 5 s, idle
# sockets are pinged every 60 s instead of 20, and messages are limited to 64 KiB.
APP_DAPHNE_OPTIONS = [
    "--websocket_connect_timeout",
    "5",
    "--ping-interval",
    "60",
    "--websocket-max-message-size",
    "65536",
    "--websocket-max-frame-size",
    "65536",
]
# docs/deployment.md's uvicorn command without its address (tests/bench checks that they match): the
# production backlog; client addresses from a proxy's X-Forwarded-For; uvloop, httptools and
# the websockets protocol named, so that a missing one fails instead of falling back; idle
# sockets pinged every 60 s and messages limited to 64 KiB, as on Daphne; no compression
# (Daphne offers none either); the lifespan protocol required, since the shutdown work runs
# through it; no access log (Daphne keeps none either).
APP_UVICORN_OPTIONS = [
    "--backlog",
    str(LISTEN_BACKLOG),
    "--proxy-headers",
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--ws",
    "websockets-sansio",
    "--ws-ping-interval",
    "60",
    "--ws-max-size",
    "65536",
    "--ws-per-message-deflate",
    "false",
    "--lifespan",
    "on",
    "--no-access-log",
]


APPLICATIONS = {
    "app": "realtime.asgi:application",
    "tutorial": "bench.peers.tutorial.asgi:application",
    "bare": "bench.peers.bare:application",
}

TARGETS = {
    target.name: target
    for target in (
        Target("app", "this project (Daphne)", "app", uses_redis=True, uses_postgres=True),
        Target(
            "app-uvicorn",
            "this project (uvicorn)",
            "app",
            server="uvicorn",
            uses_redis=True,
            uses_postgres=True,
        ),
        Target("tutorial", "Channels tutorial (Daphne)", "peer", uses_redis=True),
        Target("bare", "bare ASGI (Daphne)", "peer"),
        Target("websockets", "raw websockets", "peer"),
    )
}


@contextlib.contextmanager
def app_at(ref: str) -> Iterator[Target]:
    """The project as it was at git `ref`, exported to a temporary directory (the repository
    itself is only read), to measure an earlier delivery path beside the current one."""
    commit = subprocess.run(  # noqa: S603 - a fixed command line
        ["git", "-C", str(ROOT), "rev-parse", "--short", f"{ref}^{{commit}}"],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix=f"bench-app-{commit}-") as directory:
        archive = subprocess.run(  # noqa: S603 - a fixed command line
            ["git", "-C", str(ROOT), "archive", "--format=tar", commit],  # noqa: S607
            capture_output=True,
            timeout=120,
            check=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(directory, filter="data")
        yield Target(
            f"app@{commit}",
            f"this project at {commit} (Daphne)",
            "app",
            uses_redis=True,
            uses_postgres=True,
            root=Path(directory),
        )


def checkout_state() -> str:
    """The commit this checkout is at, and whether its files differ from it (others may be
    editing while a run goes on: a server started later runs whatever is on disk then)."""

    def git(*args: str) -> str:
        return subprocess.run(  # noqa: S603 - a fixed command line
            ["git", "-C", str(ROOT), *args],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench", ":!docs")
    return f"{commit} with uncommitted changes" if changed else commit
