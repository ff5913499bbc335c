"""Who is on the other end of a socket, from the session cookie."""

import logging
from importlib import import_module
from typing import Any

from channels.auth import get_user
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import InterfaceError, OperationalError
from django.http.cookie import parse_cookie

from realtime.sockets import ASGIMessage, Receive, Send

ASGIApp = Any

logger = logging.getLogger(__name__)


class SessionAuthMiddleware:
    """Sets scope["session"] and scope["user"] from the session cookie.

    Channels' AuthMiddlewareStack does the same but also wraps `send`, to save a session an
    HTTP response changed. A socket never changes its session, and that wrapper would run on
    every frame written to every socket.

    When the session cannot be read (the database is down), scope["auth_unavailable"] is set
    and the page socket closes with 1011, which the page retries.
    """

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope: ASGIMessage, receive: Receive, send: Send) -> None:
        cookies = parse_cookie(header(scope, b"cookie"))
        session = self.session_store(cookies.get(settings.SESSION_COOKIE_NAME))
        scope = dict(scope, session=session)
        try:
            scope["user"] = await get_user(scope)
        except (OperationalError, InterfaceError):
            # Not "signed out": the page must try again later rather than ask to sign in.
            logger.warning("Could not look up a socket's session", exc_info=True)
            scope["user"] = AnonymousUser()
            scope["auth_unavailable"] = True
        await self.inner(scope, receive, send)


def header(scope: ASGIMessage, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""
