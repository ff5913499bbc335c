"""Guard rails: where the kit may send load, and for how long.

A load test is an attack on whatever it points at. By default the kit only talks to this
machine (`localhost`, 127.0.0.0/8, `::1`); another target needs `--allow-remote` or
`LOADTEST_ALLOW_REMOTE=1`, said on purpose. Every run is bounded: without `--run-time` a
headless run stops after DEFAULT_RUN_TIME seconds.
"""

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

ALLOW_REMOTE_ENV = "LOADTEST_ALLOW_REMOTE"
DEFAULT_RUN_TIME = 60  # seconds
SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}


class UnsafeTarget(ValueError):
    pass


def env_flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def is_loopback(hostname: str) -> bool:
    name = hostname.strip("[]").lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_target(host: str | None, *, allow_remote: bool) -> str:
    """The target's base URL (scheme://host[:port], no trailing slash), or UnsafeTarget."""
    if not host:
        raise UnsafeTarget("No target: pass --host, e.g. --host http://127.0.0.1:8000")
    parts = urlsplit(host)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise UnsafeTarget(
            f"The target {host!r} is not a URL like http://127.0.0.1:8000 or https://chat.example.com"
        )
    if not allow_remote and not is_loopback(parts.hostname):
        raise UnsafeTarget(
            f"Refusing to load-test {parts.hostname}: only localhost, 127.0.0.0/8 and ::1 are "
            f"allowed by default. If this is your own deployment, pass --allow-remote or set "
            f"{ALLOW_REMOTE_ENV}=1."
        )
    return f"{parts.scheme}://{parts.netloc}"


def check_targets(hosts: str | None, *, allow_remote: bool) -> list[str]:
    """Each target of a comma-separated `--host` (users are spread over them), checked."""
    parts = [part.strip() for part in (hosts or "").split(",") if part.strip()]
    if not parts:
        return [check_target(None, allow_remote=allow_remote)]
    return [check_target(part, allow_remote=allow_remote) for part in parts]


def http_origin(base_url: str) -> str:
    """The site's origin, as a browser would send it in the Origin header."""
    parts = urlsplit(base_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}"


def socket_url(base_url: str, path: str) -> str:
    parts = urlsplit(base_url)
    return f"{SCHEMES[parts.scheme]}://{parts.netloc}{path}"


def bounded_run_time(run_time: float | None) -> float:
    """The run time to enforce, in seconds: the one given, else the default."""
    return run_time if run_time and run_time > 0 else DEFAULT_RUN_TIME
