"""Real server processes for integration and browser tests.

Each helper starts what it needs as a child process, waits until it answers, and stops it by
its own pid. Nothing here talks to anything but 127.0.0.1.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from http.cookiejar import CookieJar
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal

from bench.targets import APP_UVICORN_OPTIONS
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LOCALHOST = "127.0.0.1"
# Given to every process started here, over the test's own environment: link previews fetch
# only addresses a test allow-lists. This machine's DNS is at a private address, and test
# servers must never reach the internet.
OFFLINE = {"LINK_PREVIEW_PUBLIC": "0"}

# The password of the demo data's people (manage.py load_demo_data).
DEMO_PASSWORD = "relay-demo-pass"
# A staff member for announcements, made with `manage.py shell -c MAKE_STAFF` (prints the pk).
STAFF = "herald"
MAKE_STAFF = f"""
from django.contrib.auth import get_user_model

staff, _ = get_user_model().objects.get_or_create(username="{STAFF}")
staff.is_staff = True
staff.set_password("{DEMO_PASSWORD}")
staff.save()
print(staff.pk)
"""

# Debian's Chromium, headless. Without the background-networking flags it keeps trying to reach
# hosts this machine cannot reach.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, *, timeout: float = 20.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    def listening() -> bool:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before listening")
        try:
            with socket.create_connection((LOCALHOST, port), timeout=0.5):
                return True
        except OSError:
            return False

    eventually(listening, what=f"a server listening on {LOCALHOST}:{port}", timeout=timeout)


def manage(env: Mapping[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env, **OFFLINE},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


# Daphne's options in production (the Dockerfile's CMD): WebSocket messages and frames larger
# than 64 KiB are refused (1009). A chat message is at most a few KiB.
DAPHNE_LIMITS = ["--websocket-max-message-size", "65536", "--websocket-max-frame-size", "65536"]

# The servers the project supports: Daphne (the default) and uvicorn.
ServerName = Literal["daphne", "uvicorn"]
SERVERS: tuple[ServerName, ...] = ("daphne", "uvicorn")
# Each server's production options that matter to the application (the rest concern the
# listening socket): the Dockerfile's limits for Daphne, docs/deployment.md's for uvicorn.
PRODUCTION_OPTIONS: dict[ServerName, list[str]] = {
    "daphne": DAPHNE_LIMITS,
    "uvicorn": APP_UVICORN_OPTIONS,
}


def server_command(server: ServerName, port: int) -> list[str]:
    if server == "uvicorn":
        return [PYTHON, "-m", "uvicorn", "--host", LOCALHOST, "--port", str(port)]
    return [PYTHON, "-m", "daphne", "-b", LOCALHOST, "-p", str(port)]


def start_server(
    env: Mapping[str, str],
    *,
    port: int,
    log: Path | None = None,
    args: Sequence[str] = (),
    server: ServerName = "daphne",
) -> subprocess.Popen[bytes]:
    """A server process serving the project on 127.0.0.1:`port`, answering once it returns."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the child owns it
    try:
        process = subprocess.Popen(
            [*server_command(server, port), *args, "realtime.asgi:application"],
            cwd=ROOT,
            env={**os.environ, **env, **OFFLINE},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
    try:
        wait_for_port(port, process=process)
    except BaseException:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen[bytes], *, timeout: float = 10.0) -> int:
    """SIGTERM, as a service manager stops a server; SIGKILL after `timeout`. The exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@contextlib.contextmanager
def serving(
    env: Mapping[str, str],
    *,
    port: int | None = None,
    log: Path | None = None,
    args: Sequence[str] = (),
    server: ServerName = "daphne",
) -> Iterator[int]:
    """A server process serving the project on 127.0.0.1; yields its port."""
    port = port or free_port()
    process = start_server(env, port=port, log=log, args=args, server=server)
    try:
        yield port
    finally:
        stop(process)


def start_redis(
    *, port: int, workdir: Path, options: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """A redis-server of the caller's own on 127.0.0.1:`port`, saving nothing to disk (never
    the machine's Redis: tests may stop and restart this one), with extra `options`."""
    command = ["redis-server", "--bind", LOCALHOST, "--port", str(port), "--save", ""]
    process = subprocess.Popen(
        [*command, "--appendonly", "no", "--dir", str(workdir), *options],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process=process)
    except BaseException:
        stop(process)
        raise
    return process


def sign_in(base_url: str, username: str, password: str) -> str:
    """Sign in through the real login form; returns the session id cookie's value."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_url = f"{base_url}/accounts/login/"
    page = opener.open(login_url, timeout=10).read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, "login form has no CSRF token"
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": match.group(1)}
    ).encode()
    request = urllib.request.Request(login_url, data=data, headers={"Referer": login_url})
    opener.open(request, timeout=10).read()
    for cookie in jar:
        if cookie.name == "sessionid" and cookie.value:
            return cookie.value
    raise AssertionError(f"signing in as {username} gave no session")


class PageServer:
    """A small HTTP server on 127.0.0.1 that answers each path with what a test set up: the
    stand-in for the sites people link to. `requests` records (path, Host header)."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, self.headers.get("Host", "")))
                route = server.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    self.send_error(404)
                    return
                route(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((LOCALHOST, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def origin(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def reply(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
    ) -> None:
        def answer(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

        self.routes[path] = answer

    def redirect(self, path: str, location: str, *, status: int = 302) -> None:
        def answer(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(status)
            handler.send_header("Location", location)
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        self.routes[path] = answer

    def __enter__(self) -> "PageServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def hung_up(handler: BaseHTTPRequestHandler, *, within: float = 30.0) -> bool:
    """For a route that stalls: waits until the client closes the connection. False if it has
    not within `within` seconds (a bound for a test that would hang, not a wait)."""
    handler.connection.settimeout(within)
    try:
        return handler.rfile.read() == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@contextlib.contextmanager
def db_worker(
    env: Mapping[str, str], *, worker_id: str, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A real `manage.py db_worker` process; stopped with SIGTERM (gracefully) on exit unless
    the test ended it first."""
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [
                PYTHON,
                "manage.py",
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.2",
                "--worker-id",
                worker_id,
                "--verbosity",
                "2",
            ],
            cwd=ROOT,
            env={**os.environ, **env, **OFFLINE},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
