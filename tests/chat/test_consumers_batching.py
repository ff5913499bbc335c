"""chat.send from many sockets at once: saved in batches (chat.actions.batching), each sender
answered after its commit, every message pushed once to every socket, in order of id."""

import asyncio
import re
import uuid

import pytest
from channels.db import database_sync_to_async

from chat import events
from chat.actions import messages as message_actions
from chat.models import Message
from tests.chat.test_consumers import connect, send_frame

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_connections"),
]

SOCKETS = 20
MESSAGE_ID = re.compile(r'<article id="message-(\d+)"')


async def test_twenty_sockets_sending_at_once_are_all_answered_and_hear_every_message_once(
    make_user, room, monkeypatch
):
    batch_sizes = []

    def messages_post(*, posts):
        batch_sizes.append(len(posts))
        return message_actions.messages_post(posts=posts)

    monkeypatch.setattr("chat.actions.batching.messages_post", messages_post)
    users = [await database_sync_to_async(make_user)(f"sender{n}") for n in range(SOCKETS)]
    sockets = [await connect(user) for user in users]
    client_ids = [uuid.uuid4() for _ in sockets]

    await asyncio.gather(
        *(
            socket.send_to(text_data=send_frame(f"hello from {n}", client_id))
            for n, (socket, client_id) in enumerate(zip(sockets, client_ids, strict=True))
        )
    )
    # Each socket: its own answer, and the SOCKETS messages.
    received = [
        [await socket.receive_from(timeout=10) for _ in range(SOCKETS + 1)] for socket in sockets
    ]

    saved = await database_sync_to_async(lambda: list(Message.objects.order_by("id")))()
    assert len(saved) == SOCKETS
    assert sum(batch_sizes) == SOCKETS
    ids = [message.id for message in saved]
    for frames, client_id in zip(received, client_ids, strict=True):
        answers = [frame for frame in frames if f'data-answered="{client_id}"' in frame]
        assert answers == [events.composer_answered_html(client_id)]
        pushed = [int(found) for frame in frames for found in MESSAGE_ID.findall(frame)]
        assert pushed == ids
    for socket in sockets:
        assert await socket.receive_nothing(timeout=0.1)
        await socket.disconnect()
