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
outside the session middleware). A password change renews the session that made it, and its
other tabs, told to sign in again, must arrive with the renewed cookie: arriving with the old
one, their answer would delete the cookie the change has just set.
"""

from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from inspect import iscoroutinefunction
from typing import Any

from django.contrib.auth import user_logged_out
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware

from realtime import push
from realtime.hub import session_event


def sockets_group(user_id: int) -> str:
    """Every page socket of one person (a personal group: realtime.hub.carrier)."""
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


def ends(login: SocketLogin, change: Mapping[str, Any]) -> bool:
    """Whether `change` (pushed to the person's sockets) ends the socket of `login`."""
    session_key = change.get("session_key")
    if session_key is not None:
        return login.session_key is not None and session_key == login.session_key
    if not change.get("active", True):
        return True
    return change.get("auth_hash") != login.auth_hash


# The changes made during the current request, sent once its response is ready.
after_response: ContextVar[list[tuple[str, dict[str, Any]]] | None] = ContextVar(
    "after_response", default=None
)


def push_change(user_id: int, change: dict[str, Any]) -> None:
    group = sockets_group(user_id)
    message = session_event(group, change)
    waiting = after_response.get()
    if waiting is not None:
        waiting.append((group, message))
    else:
        push.send(group, message)


Handler = Callable[[HttpRequest], HttpResponseBase]
AsyncHandler = Callable[[HttpRequest], Awaitable[HttpResponseBase]]


@sync_and_async_middleware
def tell_sockets_after_response(get_response: Handler | AsyncHandler) -> Any:
    """Sends the session changes a request made once the session middleware has saved the
    session and the response is ready (see the module's docstring)."""
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponseBase:
            waiting: list[tuple[str, dict[str, Any]]] = []
            token = after_response.set(waiting)
            try:
                return await get_response(request)  # type: ignore[no-any-return]
            finally:
                after_response.reset(token)
                for group, message in waiting:
                    push.outbox_put(group, message)

        return middleware

    def sync_middleware(request: HttpRequest) -> HttpResponseBase:
        waiting: list[tuple[str, dict[str, Any]]] = []
        token = after_response.set(waiting)
        try:
            return get_response(request)  # type: ignore[return-value]
        finally:
            after_response.reset(token)
            for group, message in waiting:
                push.send(group, message)

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
