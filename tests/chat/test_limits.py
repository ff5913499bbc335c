"""The sender's budget (chat.limits): every write other people see spends from it, over HTTP
and over the socket alike; past it the request is refused with 429 and nothing is lost."""

import uuid

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient

from chat import limits
from chat.logic import SLOW_DOWN, TOO_FAST
from chat.models import Invitation, Message, MessageChange, Room
from tests.chat.conftest import as_user
from tests.chat.test_consumers import connect, send_frame
from tests.clocks import ManualClock
from tests.frames import frames_until

HX_REQUEST = {"HX-Request": "true"}


@pytest.fixture
def budget(settings, monkeypatch) -> ManualClock:
    """Two at once, then one a second, on a clock that moves only when the test says."""
    settings.CHAT_SEND_BURST = 2
    settings.CHAT_SEND_RATE = 1.0
    clock = ManualClock()
    monkeypatch.setattr(limits, "clock", clock)
    return clock


def edit(client, message, body):
    return client.post(f"/messages/{message.id}/edit/", {"body": body}, headers=HX_REQUEST)


def test_edits_past_the_budget_are_refused_and_keep_the_text(
    client, ada, room, budget, pushes, django_capture_on_commit_callbacks
):
    message = Message.objects.create(room=room, author=ada, body="draft")
    as_user(client, ada)
    with django_capture_on_commit_callbacks(execute=True):
        assert [edit(client, message, f"take {n}").status_code for n in (1, 2)] == [200, 200]
    assert len(pushes.sent) == 2

    with django_capture_on_commit_callbacks(execute=True):
        refused = edit(client, message, "take 3 @ada")
    assert refused.status_code == 429
    html = refused.content.decode()
    assert TOO_FAST in html
    assert ">take 3 @ada</textarea>" in html  # the editor comes back with the text
    assert 'class="message is-editing"' in html
    message.refresh_from_db()
    assert message.body == "take 2"
    assert MessageChange.objects.count() == 2
    assert len(pushes.sent) == 2  # nothing more reached the room

    budget.now += 1.0  # one more token
    assert edit(client, message, "take 3 @ada").status_code == 200
    assert edit(client, message, "take 4").status_code == 429
    message.refresh_from_db()
    assert message.body == "take 3 @ada"


def test_another_person_is_unaffected(client, ada, grace, room, budget):
    mine = Message.objects.create(room=room, author=ada, body="ada's")
    theirs = Message.objects.create(room=room, author=grace, body="grace's")
    as_user(client, ada)
    assert [edit(client, mine, f"ada {n}").status_code for n in (1, 2, 3)] == [200, 200, 429]
    as_user(client, grace)
    assert [edit(client, theirs, f"grace {n}").status_code for n in (1, 2)] == [200, 200]
    theirs.refresh_from_db()
    assert theirs.body == "grace 2"


def test_deletes_spend_the_same_budget_and_a_refusal_shows_in_the_error_line(
    client, ada, room, budget
):
    first, second = (Message.objects.create(room=room, author=ada, body=f"m{n}") for n in (1, 2))
    as_user(client, ada)
    assert edit(client, first, "m1 fixed").status_code == 200
    assert client.post(f"/messages/{first.id}/delete/", headers=HX_REQUEST).status_code == 200

    refused = client.post(f"/messages/{second.id}/delete/", headers=HX_REQUEST)
    assert refused.status_code == 429
    # The message stays as it is; the refusal goes to the page's error line.
    assert refused["HX-Reswap"] == "none"
    html = refused.content.decode()
    assert 'id="socket-error"' in html
    assert 'hx-swap-oob="true"' in html
    assert TOO_FAST in html
    second.refresh_from_db()
    assert second.deleted_at is None
    assert second.body == "m2"

    plain = client.post(f"/messages/{second.id}/delete/")
    assert (plain.status_code, plain.content.decode()) == (429, TOO_FAST)


def test_new_rooms_and_invitations_spend_the_same_budget_and_keep_what_was_typed(
    client, ada, grace, linus, budget
):
    as_user(client, ada)
    created = client.post("/rooms/new/", {"name": "Plans", "private": "1"}, headers=HX_REQUEST)
    assert created.status_code == 200
    assert (
        client.post("/rooms/plans/invite/", {"username": "grace"}, headers=HX_REQUEST).status_code
        == 200
    )

    refused = client.post("/rooms/plans/invite/", {"username": "linus"}, headers=HX_REQUEST)
    assert refused.status_code == 429
    assert TOO_FAST in refused.content.decode()
    assert 'value="linus"' in refused.content.decode()
    assert list(Invitation.objects.values_list("invitee__username", flat=True)) == ["grace"]

    refused = client.post("/rooms/new/", {"name": "More plans", "private": "1"}, headers=HX_REQUEST)
    assert refused.status_code == 429
    html = refused.content.decode()
    assert html.lstrip().startswith('<form id="room-form"')
    assert TOO_FAST in html
    assert 'value="More plans"' in html
    assert " checked" in html
    assert list(Room.objects.values_list("name", flat=True)) == ["Plans"]


def test_a_refused_request_spends_nothing_more(client, ada, room, budget):
    message = Message.objects.create(room=room, author=ada, body="draft")
    as_user(client, ada)
    assert [edit(client, message, f"take {n}").status_code for n in range(5)] == [
        200,
        200,
        429,
        429,
        429,
    ]
    budget.now += 1.0
    assert edit(client, message, "at last").status_code == 200


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
async def test_socket_sends_and_http_edits_share_the_budget(ada, room, settings, budget):
    settings.CHAT_SEND_BURST = 1
    tab = await connect(ada)
    browser = AsyncClient()
    await browser.aforce_login(ada)

    client_id = uuid.uuid4()
    await tab.send_to(text_data=send_frame("sent", client_id))
    await frames_until(tab, lambda frames: any(f'data-answered="{client_id}"' in f for f in frames))
    message = await database_sync_to_async(Message.objects.get)()
    # The send over the socket spent the budget: an edit over HTTP is refused.
    refused = await browser.post(
        f"/messages/{message.id}/edit/", {"body": "edited"}, headers=HX_REQUEST
    )
    assert refused.status_code == 429

    budget.now += 1.0
    edited = await browser.post(
        f"/messages/{message.id}/edit/", {"body": "edited"}, headers=HX_REQUEST
    )
    assert edited.status_code == 200
    # The edit over HTTP spent it: a send over the socket is refused, its text kept.
    await tab.send_to(text_data=send_frame("too soon", uuid.uuid4()))
    frames = await frames_until(tab, lambda frames: any(SLOW_DOWN in f for f in frames))
    assert "too soon</textarea>" in frames[-1]
    assert await database_sync_to_async(Message.objects.count)() == 1
    await tab.disconnect()
