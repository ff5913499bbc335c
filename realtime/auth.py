"""Who is on the other end of a socket, from the session cookie."""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.http.cookie import parse_cookie

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

# A session key is printable ASCII (Django's own are 32 lowercase letters and digits); anything
# else (a NUL, text the database cannot hold) is no session, not a database error.
SESSION_KEY = re.compile(r"[!-~]{8,4096}")


class SessionAuthMiddleware:
    """Sets scope["session_key"] from the session cookie, without reading the session.

    The user behind it is looked up by `scope_user` where the socket does its first database
    work (realtime.sockets: one call to the database thread for everything a page socket
    reads before it opens), not in a database call of its own here. The session itself is
    not kept: a socket holds its scope for hours, and needs the user, not the session's data.

    Channels' AuthMiddlewareStack also wraps `send`, to save a session an HTTP response
    changed. A socket never changes its session, and that wrapper would run on every frame
    written to every socket.
    """

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        # This frame lives as long as the socket: it keeps no locals but its arguments.
        await self.inner(dict(scope, session_key=cookie_session_key(scope)), receive, send)


def cookie_session_key(scope: Scope) -> str | None:
    """The session key in the handshake's cookie, if it looks like one."""
    session_key = parse_cookie(header(scope, b"cookie")).get(settings.SESSION_COOKIE_NAME)
    if session_key is not None and SESSION_KEY.fullmatch(session_key) is None:
        return None
    return session_key


@dataclass(frozen=True)
class ScopeLogin:
    """Who a socket belongs to, and the session that says so (None without one)."""

    user: User | AnonymousUser
    session_key: str | None = None
    # When the session expires, in seconds since the epoch; None if it does not say.
    expires_at: float | None = None


def scope_user(scope: Scope) -> User | AnonymousUser:
    return scope_login(scope).user


def scope_login(scope: Scope) -> ScopeLogin:
    """The user on the scope if something already put one there (another auth middleware, a
    test), else the session's. Synchronous: call it where database work is allowed. Raises
    what the database raises when the session cannot be read: that is not "signed out"."""
    user = scope.get("user")
    if user is not None:
        return ScopeLogin(user=user)
    if "session_key" not in scope:
        return ScopeLogin(user=AnonymousUser())
    session_store = import_module(settings.SESSION_ENGINE).SessionStore
    session = session_store(scope["session_key"])
    user = session_user(session)
    if not user.is_authenticated:
        return ScopeLogin(user=user)
    # realtime.sessions keeps the stored expiry; other engines can only estimate it.
    expires = getattr(session, "expire_date", None) or session.get_expiry_date()
    return ScopeLogin(user=user, session_key=session.session_key, expires_at=expires.timestamp())


def session_user(session: SessionBase) -> User | AnonymousUser:
    """The signed-in user of `session`, checked as for an HTTP request (an account whose
    password changed since is signed out)."""
    request = HttpRequest()
    request.session = session
    user = get_user(request)
    return user if isinstance(user, User) else AnonymousUser()


def header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""
