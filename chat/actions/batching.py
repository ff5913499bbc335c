"""chat.send's group commit: the messages a process receives while it is saving others are
saved together, in one transaction (messages_post), and each sender is answered after that
commit. One transaction per batch instead of one per message is what lets one database thread
keep up with a busy process (realtime.batching)."""

import asyncio
import uuid

from channels.db import database_sync_to_async
from django.contrib.auth.models import User

from chat.actions.messages import Post, messages_post
from chat.models import Message, Room
from realtime.batching import Batcher
from realtime.loops import per_loop
from realtime.push import flush_pushes

# How long a sender waits for its batch's pushes at most: while the channel layer is down each
# push may take until its own timeout to fail, and the sender of a saved message is answered
# anyway (the pushes left waiting still go, in order, and pages resume what they lost).
PUSHES_WAIT_SECONDS = 1.0


async def _messages_post(posts: list[Post]) -> list[Message | Exception]:
    answers: list[Message | Exception] = await database_sync_to_async(_messages_post_sync)(posts)
    return answers


def _messages_post_sync(posts: list[Post]) -> list[Message | Exception]:
    return messages_post(posts=posts)


async def _pushes_sent() -> None:
    """Wait for the pushes handed to this loop's outbox so far, the batch's among them (they
    are handed over on commit). Meanwhile the next batch is written, one batch ahead at most
    (realtime.batching), and its senders too are answered only once their pushes have left:
    a process that saves faster than the channel layer takes its pushes slows its senders
    down instead of filling its outbox (realtime.push)."""
    try:
        async with asyncio.timeout(PUSHES_WAIT_SECONDS):
            await flush_pushes()
    except TimeoutError:
        pass


message_batches = per_loop(lambda: Batcher[Post, Message](_messages_post, then=_pushes_sent))


async def message_post_batched(
    *, room: Room, author: User, body: str, client_id: uuid.UUID | None
) -> Message:
    """message_post from a socket: saved in the next batch, answered once the batch's pushes
    have left; raises what message_post would."""
    return await message_batches().submit(
        Post(room=room, author=author, body=body, client_id=client_id)
    )
