"""Pure helpers that turn environment variables into settings values.

They take the environment as a mapping so they can be tested without touching os.environ.
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})

# A socket timeout shorter than channels-redis' 5 s blocking reads kills idle sockets
# (redis-py 8 lowered its default to 5 s), so every host gets a longer one.
REDIS_SOCKET_TIMEOUT = 10


def env_bool(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}"
    )


def env_list(env: Mapping[str, str], name: str, *, default: list[str]) -> list[str]:
    raw = env.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(env: Mapping[str, str], name: str, *, default: int, minimum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer; got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {raw!r}")
    return value


def env_seconds(env: Mapping[str, str], name: str, *, default: float) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number; got {raw!r}") from None
    if not value > 0 or value == float("inf"):
        raise ImproperlyConfigured(f"{name} must be a positive number of seconds; got {raw!r}")
    return value


def secret_key(env: Mapping[str, str], *, debug: bool) -> str:
    key = env.get("SECRET_KEY", "").strip()
    if key:
        if not debug and (len(key) < 32 or key.startswith("django-insecure")):
            raise ImproperlyConfigured(
                "SECRET_KEY is too weak for production: use 32 or more random characters "
                '(python -c "import secrets; print(secrets.token_urlsafe(50))").'
            )
        return key
    if debug:
        return "django-insecure-development-only-key-never-use-in-production"
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Production mode (DEBUG off) refuses to start without one; "
        "set SECRET_KEY, or DEBUG=1 for local development."
    )


def redis_hosts(url_list: str, *, max_connections: int) -> list[dict[str, Any]]:
    """One channels-redis host per comma-separated URL; several URLs shard the layer."""
    hosts = []
    for url in url_list.split(","):
        address = url.strip()
        if not address:
            continue
        if not address.startswith(("redis://", "rediss://", "unix://")):
            raise ImproperlyConfigured(
                f"REDIS_URL entries must start with redis://, rediss:// or unix://; got {address!r}"
            )
        hosts.append(
            {
                "address": address,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
                "max_connections": max_connections,
            }
        )
    if not hosts:
        raise ImproperlyConfigured("REDIS_URL is set but names no host.")
    return hosts


# The channel of each process's hub (realtime.hub), named "hub.<...>": every group message
# the process receives queues there, whatever the group.
HUB_CHANNEL_PATTERN = "hub.*"


def channel_layer(env: Mapping[str, str]) -> dict[str, Any]:
    """Redis when REDIS_URL is set (production), else the in-memory layer (one process).

    On Redis, two capacities: HUB_CHANNEL_CAPACITY for each process's hub channel, which
    carries all of that process's group messages (a message beyond it is dropped by the
    sender's group_send, and the receiving hub sees the gap in the sequence numbers);
    CHANNEL_CAPACITY for every other channel (the pageview worker's)."""
    capacity = env_int(env, "CHANNEL_CAPACITY", default=1000)
    channel_capacity = {HUB_CHANNEL_PATTERN: env_int(env, "HUB_CHANNEL_CAPACITY", default=10_000)}
    url_list = env.get("REDIS_URL", "").strip()
    if not url_list:
        return {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            # Not channel_capacity: channels 4.3's in-memory layer takes it uncompiled and
            # fails on every send. One process, so one capacity for its few channels.
            "CONFIG": {"capacity": capacity},
        }
    return {
        "BACKEND": "realtime.layers.RedisChannelLayer",
        "CONFIG": {
            "hosts": redis_hosts(
                url_list, max_connections=env_int(env, "REDIS_MAX_CONNECTIONS", default=1000)
            ),
            "capacity": capacity,
            "channel_capacity": channel_capacity,
            "expiry": 60,
            "group_expiry": 86400,
        },
    }


def pageviews_layer(env: Mapping[str, str]) -> dict[str, Any] | None:
    """With several REDIS_URL hosts, the layer pageview hits travel on: the first host only.
    channels-redis spreads the sends to an ordinary channel over the hosts in turn, while a
    receive waits on one host until something arrives there; the single pageview worker would
    leave the hits on the other hosts waiting (and expiring after 60 s). None with one host or
    none: the default layer serves."""
    layer = channel_layer(env)
    hosts = layer["CONFIG"].get("hosts", [])
    if len(hosts) < 2:
        return None
    return {**layer, "CONFIG": {**layer["CONFIG"], "hosts": hosts[:1]}}


def first_redis_url(env: Mapping[str, str]) -> str:
    """The first REDIS_URL host (presence lives there: one place every process agrees on),
    or "" in the embedded default."""
    url_list = env.get("REDIS_URL", "").strip()
    if not url_list:
        return ""
    address: str = redis_hosts(url_list, max_connections=1)[0]["address"]
    return address
