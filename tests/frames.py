"""Reading a test socket up to a point that proves what came before it, so that a test can
tell that nothing (else) arrived without waiting for a quiet while.

- `handled_so_far(socket)`: the socket answers a frame sent now after every frame sent to it
  before, so what it sent in reply to those is among the frames read before that answer.
- `pushed_so_far(socket, user)`: every push made so far, to any group, reaches a socket before
  a marker pushed after them (the pushes leave through one outbox and reach the process's hub
  on one channel, in order), so a push that should not have reached it is among the frames
  read before the marker. Pushes are made as an action commits: read its socket up to
  `handled_so_far` first (the push an action's socket receives may come before the action has
  made its last one).
"""

import asyncio
import itertools
import json
from collections.abc import Callable

from channels.testing import WebsocketCommunicator

from realtime.groups import user_group_name
from realtime.push import apush_html, flush_pushes

markers = itertools.count()

MARKER = '<p class="test-marker" data-n="{}"></p>'


async def frames_until(
    socket: WebsocketCommunicator, done: Callable[[list[str]], bool], *, within: float = 10.0
) -> list[str]:
    """The frames `socket` receives until `done` holds for them; `within` only ends a test
    that would hang."""
    frames: list[str] = []
    async with asyncio.timeout(within):
        while not done(frames):
            frames.append(await socket.receive_from(timeout=within))
    return frames


async def handled_so_far(socket: WebsocketCommunicator) -> list[str]:
    """What `socket` sent before it answered a frame it refuses, sent now."""
    await socket.send_to(text_data=json.dumps({"action": "test.barrier"}))
    frames = await frames_until(socket, lambda fs: any("test.barrier" in f for f in fs))
    return frames[:-1]


async def pushed_so_far(socket: WebsocketCommunicator, user_id: int) -> list[str]:
    """What `socket`, a socket of the person `user_id`, receives before a marker pushed now to
    that person's tabs (each of them gets the marker too, which later reads leave out)."""
    marker = MARKER.format(next(markers))
    await flush_pushes()
    await apush_html(user_group_name(user_id), marker)
    frames = await frames_until(socket, lambda fs: any(marker in f for f in fs))
    return [frame for frame in frames[:-1] if 'class="test-marker"' not in frame]
