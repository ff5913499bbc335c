"""Opening a page socket: who it is, whether it may open, and what its parts read.

Both run before the handshake completes. `load` is the socket's first call to the database:
the session, then every part's `load`. `admit` then applies the limits of this
process: connection attempts per account (or per address, without a session), and open
sockets per person.
"""

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User

from realtime import inbound
from realtime.auth import scope_login
from realtime.limits import BucketMap, OpenCounts, attempt_key
from realtime.revocation import SocketLogin, sockets_group
from realtime.sockets.closes import (
    BAD_REQUEST,
    CLOSE_BAD_REQUEST,
    CLOSE_TOO_MANY_ATTEMPTS,
    CLOSE_TOO_MANY_SOCKETS,
    CLOSE_UNAUTHENTICATED,
    TOO_MANY_ATTEMPTS,
    TOO_MANY_SOCKETS,
)
from realtime.sockets.parts import CatchUp, Cleanup, Connection, Part, PartFactory, Refused
from realtime.sockets.urls import socket_params

# Bounded, per process: the sockets each user has open, and a token bucket per account (or
# per address, for attempts without a session) for opening new ones.
open_sockets = OpenCounts()
connection_attempts = BucketMap(capacity=settings.SOCKET_LIMIT_KEYS)

# The reads of sockets opening (`load`, `catch_up_all`) run here, not in the one thread
# `database_sync_to_async` otherwise uses: they only read, and most of their time is spent
# waiting on the database, which several sockets can do at once. Each thread keeps its own
# database connection.
opening_threads = ThreadPoolExecutor(
    max_workers=settings.SOCKET_OPEN_THREADS, thread_name_prefix="socket-opening"
)


@dataclass
class Opening:
    """What a socket read before opening: who it is, and its parts' groups or a refusal."""

    user: User | AnonymousUser
    parts: list[Part] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    refusal: Refused | None = None
    login: SocketLogin | None = None


def params_problem(params: Mapping[str, str]) -> bool:
    """Whether the socket's query holds text no page would send (NUL, lone surrogates)."""
    return inbound.has_bad_text(dict(params))


def load(
    scope: dict[str, Any],
    factories: Sequence[PartFactory],
    *,
    reply: Callable[[str], Awaitable[None]],
    leave: Callable[[str], Awaitable[None]],
    on_close: Callable[[Cleanup], None],
) -> Opening:
    """In an opening thread: who this is, then every part's reads and groups."""
    found = scope_login(scope)
    user = found.user
    if not user.is_authenticated:
        return Opening(user=user)
    params = socket_params(scope["query_string"])
    if params_problem(params):
        # Refused after the limits on attempts, as every other refusal is.
        return Opening(user=user, refusal=Refused(CLOSE_BAD_REQUEST, BAD_REQUEST))
    login = SocketLogin(
        user_id=user.pk,
        auth_hash=user.get_session_auth_hash(),
        session_key=found.session_key,
        expires_at=found.expires_at,
    )
    connection = Connection(
        user=user,
        params=params,
        reply=reply,
        leave=leave,
        socket_id=uuid.uuid4().hex,
        on_close=on_close,
    )
    parts = [make_part(connection) for make_part in factories]
    groups: list[str] = []
    try:
        for part in parts:
            groups.extend(part.load())
    except Refused as refusal:
        return Opening(user=user, refusal=refusal)
    # Every socket hears when its session ends (realtime.revocation).
    groups.append(sockets_group(user.pk))
    return Opening(user=user, parts=parts, groups=groups, login=login)


def admit(
    user: User | AnonymousUser, *, client: tuple[str, int] | list[object] | None
) -> Refused | None:
    """Whether this process lets the socket open (None) or why not. A socket let in is
    counted in open_sockets against its person; the caller gives the place back."""
    attempt = attempt_key(user_id=user.pk if user.is_authenticated else None, client=client)
    if not connection_attempts.take(
        attempt,
        rate=settings.SOCKET_CONNECT_RATE,
        burst=settings.SOCKET_CONNECT_BURST,
        now=time.monotonic(),
    ):
        return Refused(CLOSE_TOO_MANY_ATTEMPTS, TOO_MANY_ATTEMPTS, explain=True)
    if not user.is_authenticated:
        return Refused(CLOSE_UNAUTHENTICATED, "Sign in to connect.")
    if not open_sockets.open(user.pk, cap=settings.SOCKETS_PER_USER):
        return Refused(CLOSE_TOO_MANY_SOCKETS, TOO_MANY_SOCKETS, explain=True)
    return None


def catch_up_all(parts: Sequence[Part]) -> list[CatchUp | Exception]:
    """Every part's catch-up, in an opening thread; one part failing spoils no other's."""
    outcomes: list[CatchUp | Exception] = []
    for part in parts:
        try:
            outcomes.append(part.catch_up())
        except Exception as error:
            outcomes.append(error)
    return outcomes
