"""A target made ready to start: its environment (the project's production settings, on a
database created for the run and a Redis database of its own), migrated, its static files
collected, and its users signed in, one session each, in as many rooms as the scenarios need.
"""

import contextlib
import csv
import os
import secrets
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.services import REDIS_PORT, postgres_database, postgres_pid, redis_flush, redis_pid
from bench.targets import LOCALHOST, PYTHON, Target

USER_PREFIX = "bench"
FIRST_ROOM = "load-test"  # the room `manage.py loadtest_users` creates


def room_slug(number: int) -> str:
    return FIRST_ROOM if number == 0 else f"{FIRST_ROOM}-{number}"


@dataclass
class Deployment:
    """A target made ready to start: its environment and, for the app, signed-in users."""

    target: Target
    env: dict[str, str]
    log_dir: Path
    redis_db: int
    cookies: list[str] = field(default_factory=list)
    setup_seconds: float = 0.0
    # The services' own processes, to measure their CPU alongside the server's.
    redis_pid: int | None = None
    postgres_pid: int | None = None

    def cookie(self, index: int) -> str | None:
        return self.cookies[index] if self.cookies else None


def manage(env: Mapping[str, str], root: Path, *args: str, timeout: float = 300) -> str:
    result = subprocess.run(  # noqa: S603 - our own command line
        [PYTHON, "manage.py", *args],
        cwd=root,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def base_env() -> dict[str, str]:
    """This environment without proxy settings (all traffic stays on 127.0.0.1)."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def app_env(database_url: str, redis_db: int, static_root: Path) -> dict[str, str]:
    """The project's production settings, as a deployment sets them."""
    return {
        "DJANGO_SETTINGS_MODULE": "realtime.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": database_url,
        "REDIS_URL": f"redis://{LOCALHOST}:{REDIS_PORT}/{redis_db}",
        "ALLOWED_HOSTS": f"{LOCALHOST},localhost",
        "CSRF_TRUSTED_ORIGINS": "",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "STATIC_ROOT": str(static_root),
    }


@contextlib.contextmanager
def deploy(
    target: Target,
    *,
    users: int,
    rooms: int,
    redis_db: int,
    log_dir: Path,
    extra_env: Mapping[str, str],
) -> Iterator[Deployment]:
    """Make `target` ready to start: services checked, database migrated, users created."""
    started = time.monotonic()
    env = base_env()
    if target.uses_redis:
        redis_flush(redis_db)
    with contextlib.ExitStack() as stack:
        cookies: list[str] = []
        if target.name == "tutorial":
            env["DJANGO_SETTINGS_MODULE"] = "bench.peers.tutorial.settings"
            env["REDIS_URL"] = f"redis://{LOCALHOST}:{REDIS_PORT}/{redis_db}"
        if target.dialect == "app":
            database_url = stack.enter_context(postgres_database())
            static_root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="static-")))
            env.update(app_env(database_url, redis_db, static_root))
            cookies = prepare_app(env, target.root, users=users, rooms=rooms, work_dir=log_dir)
        env.update(extra_env)
        try:
            yield Deployment(
                target=target,
                env=env,
                log_dir=log_dir,
                redis_db=redis_db,
                cookies=cookies,
                setup_seconds=round(time.monotonic() - started, 1),
                redis_pid=redis_pid(redis_db) if target.uses_redis else None,
                postgres_pid=postgres_pid() if target.uses_postgres else None,
            )
        finally:
            if target.uses_redis:
                redis_flush(redis_db)


def prepare_app(
    env: Mapping[str, str], root: Path, *, users: int, rooms: int, work_dir: Path
) -> list[str]:
    """Migrate, collect static files, create the users (one session each) and the rooms."""
    manage(env, root, "migrate", "--noinput")
    manage(env, root, "collectstatic", "--noinput")
    users_csv = work_dir / "users.csv"
    manage(
        env,
        root,
        "loadtest_users",
        f"--count={users}",
        f"--prefix={USER_PREFIX}",
        f"--room={FIRST_ROOM}",
        f"--output={users_csv}",
    )
    slugs = [room_slug(n) for n in range(1, rooms)]
    if slugs:
        manage(env, root, "shell", "-c", create_rooms_code(slugs))
    with open(users_csv, newline="") as rows:
        cookies = [session for _, session in csv.reader(rows)]
    users_csv.unlink()
    if len(cookies) < users:
        raise RuntimeError(f"loadtest_users made {len(cookies)} sessions, {users} were asked for")
    return cookies


def create_rooms_code(slugs: list[str]) -> str:
    return (
        "from chat.models import Room\n"
        f"for slug in {slugs!r}:\n"
        "    Room.objects.get_or_create(slug=slug, defaults={'name': slug.replace('-', ' ')})\n"
    )
