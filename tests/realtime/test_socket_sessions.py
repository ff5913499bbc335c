"""Sockets follow the session that opened them: signing out, a new password, deactivation and
expiry close them with 4401, through the session cookie as a browser sends it."""

import asyncio
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse
from django.test import Client

from realtime.auth import SessionAuthMiddleware
from realtime.hub.hub import get_hub
from realtime.hub.messages import PUSH, SESSION, push_event
from realtime.revocation import (
    SocketLogin,
    account_change,
    after,
    ends,
    push_change,
    signed_out_change,
    sockets_group,
    tell_sockets_after_response,
)
from realtime.routing import websocket_urlpatterns
from realtime.sessions import SessionStore
from realtime.sockets import opening
from realtime.sockets.closes import CLOSE_UNAUTHENTICATED

app = SessionAuthMiddleware(URLRouter(websocket_urlpatterns))

LOGIN = SocketLogin(user_id=1, auth_hash="hash-1", session_key="key-1", expires_at=100.0)


@pytest.mark.parametrize(
    ("change", "ended"),
    [
        (signed_out_change("key-1"), True),
        (signed_out_change("key-2"), False),
        (account_change(auth_hash="hash-1", active=True), False),
        (account_change(auth_hash="hash-2", active=True), True),
        (account_change(auth_hash="hash-1", active=False), True),
    ],
)
def test_which_changes_end_a_socket(change, ended):
    assert ends(LOGIN, change) is ended


def test_the_session_that_changed_the_password_keeps_its_socket_under_its_new_key():
    change = {**account_change(auth_hash="hash-2", active=True), "renewed": ["key-1", "key-9"]}
    assert after(LOGIN, change) == replace(LOGIN, session_key="key-9", auth_hash="hash-2")
    other = replace(LOGIN, session_key="key-3")
    assert after(other, change) is None


def test_a_socket_without_a_session_key_is_not_ended_by_a_sign_out():
    login = SocketLogin(user_id=1, auth_hash="hash-1")
    assert ends(login, signed_out_change("key-1")) is False
    assert login.expired(10**12) is False


def test_a_session_expires_at_its_expiry():
    assert (LOGIN.expired(99.9), LOGIN.expired(100.0)) == (False, True)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


async def open_with(client: Client, path: str = "/ws/?room=general") -> WebsocketCommunicator:
    socket = WebsocketCommunicator(
        app, path, headers=[(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]
    )
    socket.scope["client"] = ("198.51.100.7", 50000)
    connected, _ = await socket.connect()
    assert connected
    assert 'id="bell"' in await socket.receive_from()
    return socket


async def closed_with(socket: WebsocketCommunicator) -> int:
    """The close code, skipping frames sent before it."""
    while True:
        message = await socket.receive_output(timeout=5)
        if message["type"] == "websocket.close":
            return int(message["code"])


async def still_answers(socket: WebsocketCommunicator) -> bool:
    await socket.send_to(text_data=json.dumps({"action": "probe"}))
    while True:
        message = await socket.receive_output(timeout=5)
        if message["type"] == "websocket.close":
            return False
        if "probe" in message["text"]:
            return True


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
async def test_signing_out_closes_the_sockets_of_that_session_only(ada, room):
    first, second = await sync_to_async(signed_in)(ada), await sync_to_async(signed_in)(ada)
    leaving = await open_with(first)
    staying = await open_with(second)

    await sync_to_async(first.post)("/accounts/logout/")

    assert await closed_with(leaving) == CLOSE_UNAUTHENTICATED
    assert await still_answers(staying)
    await leaving.send_input({"type": "websocket.disconnect", "code": CLOSE_UNAUTHENTICATED})
    await staying.disconnect()
    assert len(opening.open_sockets) == 0
    assert get_hub().members == {}


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
async def test_a_password_changed_elsewhere_closes_every_socket_of_the_person(ada, grace, room):
    tabs = [await open_with(await sync_to_async(signed_in)(ada)) for _ in range(2)]
    other = await open_with(await sync_to_async(signed_in)(grace))
    changer = await sync_to_async(signed_in)(ada)

    response = await sync_to_async(changer.post)(
        "/accounts/password_change/",
        {
            "old_password": "pw-for-tests-only",
            "new_password1": "a-new-Passw0rd-for-tests",
            "new_password2": "a-new-Passw0rd-for-tests",
        },
    )
    assert response.status_code == 302

    assert [await closed_with(tab) for tab in tabs] == [CLOSE_UNAUTHENTICATED] * 2
    assert await still_answers(other)
    # The session that changed the password is still signed in (Django renewed its key and
    # hash): its pages open sockets again.
    reopened = await open_with(changer)
    assert await still_answers(reopened)
    for socket in (*tabs, other, reopened):
        await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
async def test_the_tabs_of_the_session_that_changed_the_password_stay_open(ada, room):
    changer = await sync_to_async(signed_in)(ada)
    tab = await open_with(changer)
    elsewhere = await open_with(await sync_to_async(signed_in)(ada))

    response = await sync_to_async(changer.post)(
        "/accounts/password_change/",
        {
            "old_password": "pw-for-tests-only",
            "new_password1": "a-new-Passw0rd-for-tests",
            "new_password2": "a-new-Passw0rd-for-tests",
        },
    )
    assert response.status_code == 302

    assert await closed_with(elsewhere) == CLOSE_UNAUTHENTICATED
    assert await still_answers(tab)
    # The socket follows the session under its new key: signing out closes it.
    await sync_to_async(changer.post)("/accounts/logout/")
    assert await closed_with(tab) == CLOSE_UNAUTHENTICATED
    for socket in (tab, elsewhere):
        await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
async def test_deactivating_an_account_closes_its_sockets(ada, room):
    socket = await open_with(await sync_to_async(signed_in)(ada))

    ada.is_active = False
    await sync_to_async(ada.save)()

    assert await closed_with(socket) == CLOSE_UNAUTHENTICATED
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
async def test_signing_in_again_elsewhere_tells_no_socket(ada, room, monkeypatch):
    socket = await open_with(await sync_to_async(signed_in)(ada))
    told = []
    monkeypatch.setattr("realtime.revocation.push_change", lambda *args: told.append(args))
    await sync_to_async(signed_in)(ada)  # saves last_login only
    assert told == []
    assert await still_answers(socket)
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
async def test_an_expired_session_closes_its_socket_at_the_next_frame(ada, room, monkeypatch):
    client = await sync_to_async(signed_in)(ada)
    session = await Session.objects.aget(session_key=client.cookies["sessionid"].value)
    expiry = session.expire_date.timestamp()
    socket = await open_with(client)

    monkeypatch.setattr("realtime.sockets.consumer.wall_clock", lambda: expiry - 1)
    assert await still_answers(socket)
    monkeypatch.setattr("realtime.sockets.consumer.wall_clock", lambda: expiry)
    await socket.send_to(text_data=json.dumps({"action": "probe"}))
    assert await closed_with(socket) == CLOSE_UNAUTHENTICATED
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
async def test_an_idle_socket_closes_when_its_session_expires(ada, room, monkeypatch):
    client = await sync_to_async(signed_in)(ada)
    session = await Session.objects.aget(session_key=client.cookies["sessionid"].value)
    # The socket opens an hour before its session's expiry; the hour passes when the test
    # fires the timer the socket armed for it, not by waiting.
    monkeypatch.setattr(
        "realtime.sockets.consumer.wall_clock", lambda: session.expire_date.timestamp() - 3600
    )
    loop = asyncio.get_running_loop()
    call_later = loop.call_later
    expiry_timers: list[tuple[float, Any]] = []

    def arming(delay: float, callback: Any, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        if getattr(callback, "__name__", None) == "signed_out":
            expiry_timers.append((delay, callback))
        return call_later(delay, callback, *args, **kwargs)

    monkeypatch.setattr(loop, "call_later", arming)
    socket = await open_with(client)
    [(delay, expire)] = expiry_timers
    assert delay == pytest.approx(3600, abs=1e-3)  # to the float rounding of the subtraction
    assert await still_answers(socket)

    expire()
    assert await closed_with(socket) == CLOSE_UNAUTHENTICATED
    await socket.disconnect()
    assert len(opening.open_sockets) == 0


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
async def test_a_sign_out_heard_while_the_socket_joins_its_groups_closes_it(ada, room, monkeypatch):
    client = await sync_to_async(signed_in)(ada)
    key = client.cookies["sessionid"].value
    hub = get_hub()
    join = hub.join
    personal_joined = asyncio.Event()

    async def joining(group, member):
        await join(group, member)
        if group == sockets_group(ada.pk):
            personal_joined.set()
        else:
            # The sign-out reaches the socket's person group while its other joins are still
            # under way, as the hub delivers it.
            await personal_joined.wait()
            member.session_changed(signed_out_change(key))

    monkeypatch.setattr(hub, "join", joining)
    socket = WebsocketCommunicator(
        app, "/ws/?room=general", headers=[(b"cookie", f"sessionid={key}".encode())]
    )
    socket.scope["client"] = ("198.51.100.7", 50000)
    connected, _ = await socket.connect()

    assert connected
    assert await closed_with(socket) == CLOSE_UNAUTHENTICATED
    await socket.send_input({"type": "websocket.disconnect", "code": CLOSE_UNAUTHENTICATED})
    await socket.wait()
    assert len(opening.open_sockets) == 0
    assert hub.members == {}


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
async def test_every_socket_joins_its_persons_sockets_group(ada, room):
    socket = await open_with(await sync_to_async(signed_in)(ada))
    assert get_hub().group_size(sockets_group(ada.pk)) == 1
    await socket.disconnect()
    assert get_hub().group_size(sockets_group(ada.pk)) == 0


def test_the_session_expiry_read_is_the_stored_one(ada, db):
    client = signed_in(ada)
    key = client.cookies["sessionid"].value
    stored = Session.objects.get(session_key=key).expire_date
    stored -= timedelta(days=1)  # not what a fresh session would get by default
    Session.objects.filter(session_key=key).update(expire_date=stored)
    store = SessionStore(key)
    store.load()
    assert store.expire_date == stored


def test_session_changes_of_a_request_are_sent_once_its_response_is_ready(monkeypatch):
    sent: list[str] = []
    monkeypatch.setattr("realtime.push.send", lambda group, message: sent.append(group))

    def view(request):
        push_change(7, signed_out_change("key-1"))
        assert sent == []  # the session middleware inside has not saved the session yet
        return HttpResponse("ok")

    tell_sockets_after_response(view)(HttpRequest())
    assert sent == [sockets_group(7)]
    # Outside a request, at once.
    push_change(8, signed_out_change("key-2"))
    assert sent == [sockets_group(7), sockets_group(8)]


def test_a_change_sent_after_the_response_is_numbered_as_it_leaves(monkeypatch):
    # A person's groups share a carrier, numbered per sending thread: a change numbered when
    # made but sent after a later push would look to every receiver like a lost push.
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr("realtime.push.send", lambda group, message: sent.append(message))

    def view(request):
        push_change(7, signed_out_change("key-1"))
        sent.append(push_event("user.7", "<p>meanwhile</p>"))
        return HttpResponse("ok")

    tell_sockets_after_response(view)(HttpRequest())
    assert [m["type"] for m in sent] == [PUSH, SESSION]
    assert sent[1]["seq"] == sent[0]["seq"] + 1


@pytest.mark.asyncio
async def test_an_async_request_sends_them_after_its_response_too(monkeypatch):
    sent: list[str] = []
    monkeypatch.setattr("realtime.push.outbox_put", lambda group, message: sent.append(group))

    async def view(request):
        push_change(7, signed_out_change("key-1"))
        assert sent == []
        return HttpResponse("ok")

    await tell_sockets_after_response(view)(HttpRequest())
    assert sent == [sockets_group(7)]
