"""Sockets follow the session that opened them.

A socket reads its session once, when it opens: who it is, the session's key and when it
expires, and the account's session hash (which changes with the password). From then on it
asks the database nothing more about it. Instead:

- signing out closes the sockets of that session, on every process;
- a change to the account (a new password, from any session or the admin; deactivation;
  deletion) closes every socket whose session hash no longer matches, or all of the person's;
- a session that expires closes its sockets at the first frame after its expiry.

Signing out and account changes are pushed on commit to a group each socket joins for its
person (`sockets_group`), carried with the person's other groups (realtime.hub). Those sockets
close with 4401, and the page goes to the sign-in page.

During a request, those pushes wait until its response is ready (`tell_sockets_after_response`,
outside the session middleware), and say which session the request renewed, if any: a
password change through Django's form keeps the session that made it signed in under a new key
and hash, and the sockets of that session stay open (sent to the sign-in page, its other tabs
could arrive there with the old cookie before the new one, and be signed out).
"""

from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import partial
from inspect import iscoroutinefunction
from typing import Any

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, user_logged_out
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware

from realtime import push
from realtime.hub.messages import session_event


def sockets_group(user_id: int) -> str:
    """Every page socket of one person (a personal group: realtime.hub.messages.carrier)."""
    return f"user.{user_id}.sockets"


@dataclass(frozen=True)
class SocketLogin:
    """What a socket knows of the session that opened it."""

    user_id: int
    auth_hash: str
    session_key: str | None = None
    expires_at: float | None = None  # seconds since the epoch

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at


def signed_out_change(session_key: str) -> dict[str, Any]:
    return {"session_key": session_key}


def account_change(*, auth_hash: str, active: bool) -> dict[str, Any]:
    return {"auth_hash": auth_hash, "active": active}


def after(login: SocketLogin, change: Mapping[str, Any]) -> SocketLogin | None:
    """What the socket of `login` knows once `change` (pushed to the person's sockets) is
    made; None if the change ends its session."""
    session_key = change.get("session_key")
    if session_key is not None:
        ended = login.session_key is not None and session_key == login.session_key
        return None if ended else login
    if not change.get("active", True):
        return None
    auth_hash = change.get("auth_hash")
    if auth_hash == login.auth_hash:
        return login
    renewed = change.get("renewed")
    if (
        isinstance(auth_hash, str)
        and renewed is not None
        and login.session_key is not None
        and renewed[0] == login.session_key
    ):
        # The session that changed the password: Django renewed its key and hash, and it
        # stays signed in; so do its sockets.
        return replace(login, session_key=renewed[1], auth_hash=auth_hash)
    return None


def ends(login: SocketLogin, change: Mapping[str, Any]) -> bool:
    """Whether `change` (pushed to the person's sockets) ends the socket of `login`."""
    return after(login, change) is None


def renewed_in(
    changes: list[tuple[int, dict[str, Any]]], *, cookie_key: str | None, session: Any
) -> None:
    """Marks the account changes a request made with the session it renewed, if it did (a
    password change through Django's `update_session_auth_hash`): the request came with
    `cookie_key`, and its session now has another key and this account's new hash."""
    new_key = getattr(session, "session_key", None)
    if cookie_key is None or new_key is None or new_key == cookie_key:
        return
    for _, change in changes:
        if change.get("auth_hash") and session.get(HASH_SESSION_KEY) == change["auth_hash"]:
            change["renewed"] = (cookie_key, new_key)


# The changes made during the current request (by user id), sent once its response is ready.
after_response: ContextVar[list[tuple[int, dict[str, Any]]] | None] = ContextVar(
    "after_response", default=None
)


def push_change(user_id: int, change: dict[str, Any]) -> None:
    waiting = after_response.get()
    if waiting is not None:
        waiting.append((user_id, change))
    else:
        send_change(user_id, change)


def send_change(user_id: int, change: dict[str, Any]) -> None:
    # Numbered as it leaves, not when it was made: the pushes this thread sent meanwhile on the
    # same carrier carry the numbers before it, and receivers see no gap.
    group = sockets_group(user_id)
    push.send(group, session_event(group, change))


def put_change(user_id: int, change: dict[str, Any]) -> None:
    group = sockets_group(user_id)
    push.outbox_put(group, session_event(group, change))


Handler = Callable[[HttpRequest], HttpResponseBase]
AsyncHandler = Callable[[HttpRequest], Awaitable[HttpResponseBase]]


@sync_and_async_middleware
def tell_sockets_after_response(get_response: Handler | AsyncHandler) -> Any:
    """Sends the session changes a request made once the session middleware has saved the
    session and the response is ready (see the module's docstring)."""
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponseBase:
            waiting: list[tuple[int, dict[str, Any]]] = []
            token = after_response.set(waiting)
            cookie_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
            try:
                return await get_response(request)  # type: ignore[no-any-return]
            finally:
                after_response.reset(token)
                session = getattr(request, "session", None)
                renewed_in(waiting, cookie_key=cookie_key, session=session)
                for user_id, change in waiting:
                    put_change(user_id, change)

        return middleware

    def sync_middleware(request: HttpRequest) -> HttpResponseBase:
        waiting: list[tuple[int, dict[str, Any]]] = []
        token = after_response.set(waiting)
        cookie_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        try:
            return get_response(request)  # type: ignore[return-value]
        finally:
            after_response.reset(token)
            session = getattr(request, "session", None)
            renewed_in(waiting, cookie_key=cookie_key, session=session)
            for user_id, change in waiting:
                send_change(user_id, change)

    return sync_middleware


def signed_out(sender: object, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    """Django's user_logged_out: sent before the session is flushed, so its key is known."""
    session_key = request.session.session_key
    if user is None or session_key is None:
        return
    change = signed_out_change(session_key)
    transaction.on_commit(partial(push_change, user.pk, change), robust=True)


def account_saved(
    sender: object,
    instance: User,
    created: bool,
    update_fields: frozenset[str] | None = None,
    **kwargs: Any,
) -> None:
    """Any save of an existing account but a sign-in's (which only moves last_login): the
    password or the active flag may have changed, however it was done."""
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    change = account_change(auth_hash=instance.get_session_auth_hash(), active=instance.is_active)
    transaction.on_commit(partial(push_change, instance.pk, change), robust=True)


def account_deleted(sender: object, instance: User, **kwargs: Any) -> None:
    change = account_change(auth_hash="", active=False)
    transaction.on_commit(partial(push_change, instance.pk, change), robust=True)


def connect_signals() -> None:
    user_logged_out.connect(signed_out, dispatch_uid="realtime.revocation.signed_out")
    post_save.connect(account_saved, sender=User, dispatch_uid="realtime.revocation.saved")
    post_delete.connect(account_deleted, sender=User, dispatch_uid="realtime.revocation.deleted")
