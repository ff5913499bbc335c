"""A page socket's outgoing messages: replies and pushes, in the order they were made,
sent without making anyone wait.

A message is written at once when nothing is in flight (on Daphne, as a ready-made frame
straight to the connection: realtime.server); otherwise it waits in a bounded backlog. A
client that reads slower than messages arrive fills the backlog, and is let go rather than
buffered for without bound: it reconnects later and resumes from its cursor.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from realtime import frames

logger = logging.getLogger(__name__)


def eager_task(coroutine: Coroutine[Any, Any, None]) -> "asyncio.Task[None]":
    """A task that runs at once, up to its first real wait; often it finishes right there."""
    return asyncio.Task(coroutine, loop=asyncio.get_running_loop(), eager_start=True)


def settle(sending: "asyncio.Task[None]") -> None:
    if not sending.cancelled() and sending.exception() is not None:
        logger.debug("Send to a socket failed", exc_info=sending.exception())


class Outgoing:
    def __init__(
        self,
        send: Callable[..., Coroutine[Any, Any, None]],
        *,
        limit: int,
        overflowed: Callable[[], None],
    ) -> None:
        # The consumer's own send (Channels' `send(text_data=...)`).
        self.send = send
        self.limit = limit
        # Called when the backlog is full: the socket is to close.
        self.overflowed = overflowed
        # Writes a ready-made frame straight to the socket, where the server offers that.
        self.write_frame: Callable[[bytes], bool] | None = None
        # Messages waiting while a send is in flight, or while the socket is held; None while
        # nothing is in flight.
        self.backlog: deque[str] | None = None
        self.stopped = False

    def put(self, html: str, frame: bytes | None = None) -> None:
        """Send `html` in its turn; `frame` is it as a ready-made frame, if there is one."""
        if self.stopped:
            return
        if self.backlog is not None:
            if len(self.backlog) >= self.limit:
                self.overflowed()
                return
            self.backlog.append(html)
            return
        # On Daphne: the hub's frame, made once for all the members of this process, written
        # as it is. No task, no ASGI message, no framing per socket.
        if self.write_frame is not None and self.write_frame(frame or frames.text_frame(html)):
            return
        self.start_send(html)

    def put_many(self, htmls: Sequence[str], frames: Sequence[bytes]) -> None:
        """Several messages in their turn; on Daphne, with nothing in flight, in one write."""
        if self.stopped:
            return
        write = self.write_frame if self.backlog is None else None
        if write is not None and write(b"".join(frames)):
            return
        for html, frame in zip(htmls, frames, strict=True):
            self.put(html, frame)

    def hold(self) -> None:
        """Nothing may be sent yet (the handshake is not complete): messages wait."""
        self.backlog = deque()

    def release(self, first: Sequence[str] = ()) -> None:
        """Send `first`, then what waited while held."""
        waiting, self.backlog = self.backlog, None
        for html in (*first, *(waiting or ())):
            self.put(html)

    def drop(self) -> None:
        """Forget what waits."""
        self.backlog = None

    def stop(self) -> None:
        """The socket is closing: nothing more is sent."""
        self.stopped = True
        self.backlog = None

    def start_send(self, html: str) -> None:
        # Eager: on Daphne the send completes at once, without scheduling anything.
        sending = eager_task(self.send(text_data=html))
        if sending.done():
            settle(sending)
            return
        self.backlog = deque()
        sending.add_done_callback(self.sent)

    def sent(self, sending: "asyncio.Task[None]") -> None:
        settle(sending)
        backlog, self.backlog = self.backlog, None
        if backlog and not self.stopped:
            first = backlog.popleft()
            self.start_send(first)
            if self.backlog is None:
                for html in backlog:
                    self.put(html)
            else:
                self.backlog.extend(backlog)
