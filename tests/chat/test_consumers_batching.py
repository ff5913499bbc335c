"""chat.send from many sockets at once: saved in batches (chat.actions.batching), each sender
answered after its commit, every message pushed once to every socket, in order of id."""

import asyncio
import re
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from chat import events
from chat.actions import messages as message_actions
from chat.models import Message
from tests.chat.test_consumers import connect, send_frame
from tests.frames import handled_so_far
from tests.waiting import until

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
        assert await handled_so_far(socket) == []  # nothing more: no message twice
        await socket.disconnect()


def hang_the_layer(monkeypatch) -> asyncio.Event:
    """From now on the channel layer's sends wait (an outage without a refused connection)
    until the event returned is set."""
    layer_back = asyncio.Event()
    real_send = get_channel_layer().group_send

    async def hanging_send(group, message):
        await layer_back.wait()
        await real_send(group, message)

    monkeypatch.setattr(get_channel_layer(), "group_send", hanging_send)
    return layer_back


async def test_a_saved_message_is_answered_while_its_push_cannot_leave(ada, room, monkeypatch):
    """A batch's senders wait for its pushes to leave, but no longer than PUSHES_WAIT_SECONDS:
    with the channel layer hanging (an outage without a refused connection), the message is
    saved and its sender answered, and the push still goes once the layer answers again."""
    monkeypatch.setattr("chat.actions.batching.PUSHES_WAIT_SECONDS", 0.2)
    socket = await connect(ada)
    layer_back = hang_the_layer(monkeypatch)
    client_id = uuid.uuid4()
    await socket.send_to(text_data=send_frame("saved while the layer hangs", client_id))

    answer = await socket.receive_from(timeout=10)
    assert answer == events.composer_answered_html(client_id)
    saved = await database_sync_to_async(lambda: list(Message.objects.values_list("body")))()
    assert saved == [("saved while the layer hangs",)]

    layer_back.set()
    pushed = await socket.receive_from(timeout=10)
    assert "saved while the layer hangs" in pushed
    await socket.disconnect()


async def test_the_next_batch_is_saved_while_the_previous_ones_pushes_leave(
    ada, grace, room, monkeypatch
):
    """A batch's senders are answered once its pushes have left; the next batch is not held
    back meanwhile. Its senders too wait for their pushes."""
    monkeypatch.setattr("chat.actions.batching.PUSHES_WAIT_SECONDS", 30)

    def bodies():
        return list(Message.objects.order_by("id").values_list("body", flat=True))

    async def saved(expected):
        return await database_sync_to_async(bodies)() == expected

    first, second = await connect(ada), await connect(grace)
    layer_back = hang_the_layer(monkeypatch)
    first_id, second_id = uuid.uuid4(), uuid.uuid4()
    await first.send_to(text_data=send_frame("first", first_id))
    await until(lambda: saved(["first"]), what="the first message saved")
    await second.send_to(text_data=send_frame("second", second_id))
    # Saved while the first message's push still waits for the layer.
    await until(lambda: saved(["first", "second"]), what="the second message saved")
    # Neither is answered while the pushes cannot leave.
    assert await first.receive_nothing(timeout=0.2)
    assert await second.receive_nothing(timeout=0.2)

    layer_back.set()
    for socket, client_id in ((first, first_id), (second, second_id)):
        frames = [await socket.receive_from(timeout=10) for _ in range(3)]
        assert events.composer_answered_html(client_id) in frames
        heard = [body for body in ("first", "second") if any(f">{body}</div>" in f for f in frames)]
        assert heard == ["first", "second"]
        await socket.disconnect()
