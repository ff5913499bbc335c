"""Private stays private: every surface, as someone who is not a member of the private room
"Secret" (linus) meets it, next to a member (grace) for contrast. One test per surface; each
would show the room's name, count or text if the surface leaked. Surfaces proved elsewhere
are listed in SECURITY.md ("Private rooms on every other surface")."""

import time
from urllib.parse import quote

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from chat.actions import messages as message_actions
from pageviews import queries as pageview_queries
from pageviews.models import PageCounter
from realtime.routing import websocket_urlpatterns
from realtime.sockets.closes import CLOSE_NOT_FOUND

SECRET_TEXT = "plans for the launch"


async def page_socket(user, query):
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/?{query}")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
async def test_counters_and_here_now_of_a_private_room_are_refused_to_a_non_member(
    ada, grace, linus, secret
):
    """The page socket's counters name a path: before, a non-member naming the private room's
    path heard its view count and how many people had it open, and was counted among them."""
    await database_sync_to_async(PageCounter.objects.create)(path="/rooms/secret/", views=7)
    path = f"path={quote('/rooms/secret/', safe='')}"
    refusals = []
    for slug in ("secret", "no-such-room"):
        tab = await page_socket(linus, f"path={quote(f'/rooms/{slug}/', safe='')}")
        refusals.append(await tab.receive_output())
    # Exactly like a missing room: no count, no "here now", nothing to tell them apart.
    assert (
        refusals
        == [{"type": "websocket.close", "code": CLOSE_NOT_FOUND, "reason": "No such room."}] * 2
    )

    member = await page_socket(grace, path)
    frames = [await member.receive_from() for _ in range(3)]
    assert any('id="page-views"' in frame and "7 views" in frame for frame in frames)
    await member.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
async def test_naming_another_room_beside_the_private_page_does_not_open_its_counters(
    linus, room, secret
):
    """A room page's socket names its room, whose check covers its own path only."""
    tab = await page_socket(linus, f"room=general&path={quote('/rooms/secret/', safe='')}")
    closed = await tab.receive_output()
    assert closed == {"type": "websocket.close", "code": CLOSE_NOT_FOUND, "reason": "No such room."}


def test_the_stats_chart_counts_no_private_message(client, ada, linus, room, secret):
    """/stats/ shows messages per minute to everyone alike: before, a burst in a private room
    or a conversation showed there."""
    for _ in range(3):
        message_actions.message_post(room=secret, author=ada, body=SECRET_TEXT, client_id=None)
    message_actions.message_post(room=room, author=ada, body="hello", client_id=None)
    since = int(time.time()) - 3600
    assert sum(pageview_queries.messages_per_minute(since=since).values()) == 1
    client.force_login(linus)
    html = client.get("/stats/").content.decode()
    assert SECRET_TEXT not in html
    assert "Secret" not in html
