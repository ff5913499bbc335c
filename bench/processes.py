"""Server processes: every server is a child process bound to 127.0.0.1, started fresh on a
free port for each scenario and stopped by its own pid whatever happens.
"""

import contextlib
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.deployment import Deployment
from bench.targets import LOCALHOST


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((LOCALHOST, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listened on {LOCALHOST}:{port} within {timeout} s")


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


@dataclass(frozen=True)
class Server:
    pid: int
    port: int
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"ws://{LOCALHOST}:{self.port}"

    @property
    def origin(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"


def server_log(deployment: Deployment, name: str) -> Path:
    return deployment.log_dir / f"{deployment.target.name}-{name}.log"


@contextlib.contextmanager
def server(deployment: Deployment, name: str) -> Iterator[Server]:
    """The target's server on a free port, stopped by its pid when the block ends."""
    port = free_port()
    log = server_log(deployment, name)
    with open(log, "ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            deployment.target.command(port),
            cwd=deployment.target.root,
            env=deployment.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, process)
            yield Server(pid=process.pid, port=port, log=log, process=process)
        finally:
            stop_process(process)
