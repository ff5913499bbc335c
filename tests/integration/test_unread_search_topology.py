"""Unread state and search in the production topology: PostgreSQL full-text search with its
GIN index, and read cursors whose changes cross from one Daphne process to the other over
Redis."""

import html
import http.client
import json
import re
import uuid
from urllib.parse import quote

import psycopg
import pytest

from tests.integration.conftest import Server, Topology
from tests.integration.test_chat_topology import (
    TIMEOUT,
    chat_send,
    containing,
    message_ids,
    page_socket,
    receive_for,
    receive_until,
)
from tests.servers import LOCALHOST, manage

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

# Runs in `manage.py shell` on the deployment: messages in a room of their own.
SEED = """
from django.contrib.auth import get_user_model
from chat.models import Message, ReadCursor, Room

users = get_user_model().objects
room = Room.objects.create(name="{name}", slug="{slug}")
for body in {bodies!r}:
    Message.objects.create(room=room, author=users.get(username="grace"), body=body)
for follower in {followers!r}:
    ReadCursor.objects.create(user=users.get(username=follower), room=room)
print(room.pk)
"""

# The plan PostgreSQL chooses for the query the app runs, with sequential scans discouraged:
# it names the GIN index only if the query's expression is the index's.
EXPLAIN = """
from django.db import connection
from chat.models import Message
from chat.queries.search import full_text_matches

with connection.cursor() as cursor:
    cursor.execute("SET enable_seqscan = off")
print(full_text_matches(Message.objects.all(), "{query}").explain())
"""


def get(server: Server, path: str, *, session: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection(LOCALHOST, server.port, timeout=TIMEOUT)
    try:
        connection.request("GET", path, headers={"Cookie": f"sessionid={session}"})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def seed(
    env: dict[str, str], bodies: list[str], followers: tuple[str, ...] = ()
) -> tuple[str, int]:
    token = uuid.uuid4().hex[:10]
    slug = f"search-{token}"
    code = SEED.format(name=f"Search {token}", slug=slug, bodies=bodies, followers=followers)
    out = manage(env, "shell", "-c", code)
    return slug, int(out.strip().splitlines()[-1])


def hits(page: str) -> list[str]:
    """The snippets of the search results, in order."""
    return re.findall(r'<span class="hit-snippet">(.*?)</span>', page, re.DOTALL)


async def test_full_text_search_ranks_stems_and_highlights_safely(
    topology: Topology, production_env: dict[str, str]
) -> None:
    token = uuid.uuid4().hex[:8]
    slug, _ = seed(
        production_env,
        [
            f"{token} kettle once, in passing, with some other words around it",
            f"<script>alert(1)</script> {token} 1 < 2 & 3 > 2: the kettles, kettle, kettle!",
            f"nothing to see here {token}",
        ],
    )
    query = quote(f"kettle {token}")
    status, page = get(topology.b, f"/search/?q={query}", session=topology.sessions["ada"])
    assert status == 200
    found = hits(page)
    # English stemming: "kettles" matches "kettle"; the message that says it most ranks first.
    assert len(found) == 2
    assert "<mark>kettles</mark>, <mark>kettle</mark>, <mark>kettle</mark>" in found[0]
    assert "<mark>kettle</mark> once" in found[1]
    # Whatever the message holds, the snippet's only markup is the highlighting.
    for snippet in found:
        assert not re.search(r"[<>]", re.sub(r"</?mark>", "", snippet)), snippet
    assert "&amp;" in found[0]
    assert "<script>" not in page.split("<main", 1)[1]
    assert f'href="/rooms/{slug}/?around=' in page


async def test_web_search_syntax_phrases_and_exclusions(
    topology: Topology, production_env: dict[str, str]
) -> None:
    token = uuid.uuid4().hex[:8]
    seed(
        production_env,
        [f"green tea {token}", f"tea that is green {token}", f"green tea with milk {token}"],
    )
    query = quote(f'"green tea" -milk {token}')
    status, page = get(topology.a, f"/search/?q={query}", session=topology.sessions["linus"])
    assert status == 200
    assert len(hits(page)) == 1
    assert f"tea {token}" in re.sub(r"</?mark>", "", hits(page)[0])


async def test_stop_words_alone_find_nothing_and_say_so(topology: Topology) -> None:
    status, page = get(topology.a, "/search/?q=the", session=topology.sessions["ada"])
    assert status == 200
    assert "No messages match “the”." in page


async def test_search_uses_the_gin_index(production_env: dict[str, str], postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as connection:
        (definition,) = connection.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'chat_message_body_search'"
        ).fetchone() or (None,)
    assert definition is not None, "migration 0005 did not create the index"
    assert "USING gin" in definition
    plan = manage(production_env, "shell", "-c", EXPLAIN.format(query="kettle"))
    assert "chat_message_body_search" in plan, plan


async def test_reading_on_one_process_clears_the_count_on_the_other(
    topology: Topology, production_env: dict[str, str]
) -> None:
    slug, room_id = seed(production_env, [], followers=("ada",))
    ada = topology.sessions["ada"]
    # ada reads on process A; her other tab and linus's are on process B.
    async with (
        page_socket(topology.a, session=ada, room=slug) as reading,
        page_socket(topology.b, session=topology.sessions["grace"], room=slug) as writer,
        page_socket(topology.b, session=ada, room="general") as other_tab,
        page_socket(topology.b, session=topology.sessions["linus"], room="general") as linus,
    ):
        await receive_until(other_tab, containing(f'id="unread-{room_id}"'), what="counts")

        body = f"unread {uuid.uuid4().hex}"
        await writer.send(chat_send(body, uuid.uuid4()))
        activity = await receive_until(
            other_tab, containing(f'id="room-activity-{room_id}"'), what="activity"
        )
        assert body not in "".join(activity)
        pushed = await receive_until(reading, containing(body), what="the message")
        (message_id,) = message_ids(pushed, html.escape(body))

        await reading.send(
            json.dumps({"action": "chat.read", "room": room_id, "up_to": message_id})
        )
        cleared = await receive_until(
            other_tab, containing(f'data-read="{message_id}"'), what="the read push"
        )
        badge = next(frame for frame in cleared if f'data-read="{message_id}"' in frame)
        assert f'id="unread-{room_id}"' in badge
        assert 'data-count="0"' in badge
        # linus never opened the room: he hears neither its activity nor ada's reading.
        heard = await receive_for(linus)
        room_ids = (f'id="unread-{room_id}"', f'id="room-activity-{room_id}"')
        assert not [frame for frame in heard if any(name in frame for name in room_ids)]
