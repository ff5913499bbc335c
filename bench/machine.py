"""The machine and software a run measured, for the report."""

import os
import platform
from importlib import metadata
from typing import Any

import psycopg
import redis

from bench.services import REDIS_PORT, postgres_admin
from bench.targets import LOCALHOST

LIBRARIES = (
    "Django",
    "channels",
    "channels-redis",
    "daphne",
    "Twisted",
    "autobahn",
    "uvicorn",
    "uvloop",
    "httptools",
    "redis",
    "websockets",
    "psycopg",
    "asgiref",
)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return 0.0


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def service_versions() -> dict[str, str]:
    found = {}
    try:
        with redis.Redis(host=LOCALHOST, port=REDIS_PORT, socket_connect_timeout=3) as client:
            found["Redis"] = str(client.info("server")["redis_version"])
    except (redis.RedisError, KeyError):
        found["Redis"] = "unreachable"
    try:
        with postgres_admin() as admin:
            row = admin.execute("SHOW server_version").fetchone()
            found["PostgreSQL"] = str(row[0]) if row else "unknown"
    except psycopg.Error:
        found["PostgreSQL"] = "unreachable"
    return found


def describe() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "memory_gib": memory_gib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "open_files_limit": open_files_limit(),
        "libraries": library_versions(),
        "services": service_versions(),
    }


def open_files_limit() -> int:
    import resource

    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
