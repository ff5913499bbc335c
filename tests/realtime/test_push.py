"""Pushes made in the server's worker threads go through the event loop's outbox."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer

from realtime import metrics, push
from realtime.hub.messages import BATCH, leave_event, push_event
from tests.waiting import until


def pushes(message):
    """The pushes a layer message carries: itself, or a batch's."""
    return message["messages"] if message["type"] == BATCH else [message]


class GatedLayer(InMemoryChannelLayer):
    """Records the pushes of group sends in order, and how many sends carried them; each
    send waits for `open` (a slow or stuck Redis)."""

    def __init__(self) -> None:
        super().__init__()
        self.open = asyncio.Event()
        self.sent: list[tuple[str, str]] = []
        self.sends = 0
        self.failing: set[str] = set()

    async def group_send(self, group, message):
        await self.open.wait()
        carried = pushes(message)
        if any(push.get("html") in self.failing for push in carried):
            raise ConnectionError("redis went away")
        self.sends += 1
        self.sent.extend((group, push.get("html") or push["type"]) for push in carried)


@pytest.fixture
def layer(monkeypatch):
    layer = GatedLayer()
    monkeypatch.setattr(push, "get_channel_layer", lambda: layer)
    return layer


@pytest.mark.asyncio
async def test_a_worker_thread_does_not_wait_for_the_layer(layer):
    def commit() -> None:  # what an action's on_commit does in a view or socket action
        push.push_html("room.1", "first")
        push.push_leave("user.2", leave="room.1", html="gone")
        push.push_html("room.1", "second")

    # Returns although the layer has not taken anything yet.
    await asyncio.wait_for(sync_to_async(commit)(), timeout=2)
    assert layer.sent == []
    layer.open.set()
    await push.flush_pushes()
    # A person's groups travel in their carrier (realtime.hub.messages.carrier).
    assert layer.sent == [("room.1", "first"), ("users.2", "gone"), ("room.1", "second")]


@pytest.mark.asyncio
async def test_a_failed_push_is_logged_and_the_next_ones_go_on(layer, caplog):
    layer.failing.add("lost")
    layer.open.set()

    def commit() -> None:
        for room, html in (("room.1", "before"), ("room.2", "lost"), ("room.1", "after")):
            push.push_html(room, html)

    await sync_to_async(commit)()
    await push.flush_pushes()
    assert layer.sent == [("room.1", "before"), ("room.1", "after")]
    assert "Could not push to room.2 (1 pushes)" in caplog.text


@pytest.mark.asyncio
async def test_pushes_waiting_for_one_carrier_leave_together_in_their_order(layer, monkeypatch):
    monkeypatch.setattr(push, "BATCH_PUSHES", 3)

    def commit() -> None:  # a batch saved together: each message, then its room lists' push
        for number in range(4):
            push.push_html("room.1", f"message {number}")
            push.push_html("room.1.activity", f"activity {number}")

    await sync_to_async(commit)()
    layer.open.set()
    await push.flush_pushes()
    # Each carrier's pushes in their order, up to BATCH_PUSHES a send: 3 + 1 and 3 + 1.
    assert [html for group, html in layer.sent if group == "room.1"] == [
        f"message {number}" for number in range(4)
    ]
    assert [html for group, html in layer.sent if group == "room.1.activity"] == [
        f"activity {number}" for number in range(4)
    ]
    assert layer.sends == 4


@pytest.mark.asyncio
async def test_no_push_goes_ahead_of_a_leave_handed_over_before_it(layer):
    def commit() -> None:  # grace is removed from room 1, then someone writes there
        push.push_html("room.1", "before")
        push.push_leave("user.2", leave="room.1", html="removed")
        push.push_html("room.1", "after")

    await sync_to_async(commit)()
    layer.open.set()
    await push.flush_pushes()
    assert layer.sent == [("room.1", "before"), ("users.2", "removed"), ("room.1", "after")]


@pytest.mark.asyncio
async def test_a_flush_waits_for_pushes_passed_over_by_a_batch(monkeypatch):
    """A batch may take a newer push ahead of an older one for another carrier: the older one
    is still waited for."""
    layer = OneAtATimeLayer()
    monkeypatch.setattr(push, "get_channel_layer", lambda: layer)
    for group, html in (("room.1", "a"), ("room.2", "b")):
        push.outbox_put(group, push_event(group, html))
    flushed = asyncio.ensure_future(push.flush_pushes())  # for "a" and "b"
    push.outbox_put("room.1", push_event("room.1", "c"))
    layer.let_through.release()
    await until(lambda: layer.sent == ["a", "c"])
    assert not flushed.done()  # "b" is older than "c" and not sent yet
    layer.let_through.release()
    await asyncio.wait_for(flushed, timeout=5)
    assert layer.sent == ["a", "c", "b"]


@pytest.mark.asyncio
async def test_a_batch_stops_short_of_batch_bytes(layer, monkeypatch):
    monkeypatch.setattr(push, "BATCH_BYTES", 10)
    for html in ("12345", "67890", "x"):
        push.outbox_put("room.1", push_event("room.1", html))
    layer.open.set()
    await push.flush_pushes()
    assert [html for _, html in layer.sent] == ["12345", "67890", "x"]
    assert layer.sends == 2


class OneAtATimeLayer(InMemoryChannelLayer):
    """Each group send waits until the test lets exactly one through."""

    def __init__(self) -> None:
        super().__init__()
        self.let_through = asyncio.Semaphore(0)
        self.sent: list[str] = []

    async def group_send(self, group, message):
        await self.let_through.acquire()
        self.sent.extend(push["html"] for push in pushes(message))


@pytest.mark.asyncio
async def test_a_flush_waits_for_what_was_handed_over_before_it_not_after(monkeypatch):
    """chat.send's senders wait for their batch's pushes: pushes that keep coming after
    (other rooms, other actions) do not keep them waiting."""
    layer = OneAtATimeLayer()
    monkeypatch.setattr(push, "get_channel_layer", lambda: layer)
    push.outbox_put("room.1", push_event("room.1", "mine"))
    flushed = asyncio.ensure_future(push.flush_pushes())
    push.outbox_put("room.2", push_event("room.2", "later"))

    layer.let_through.release()
    await asyncio.wait_for(flushed, timeout=5)
    assert layer.sent == ["mine"]  # done, with the later push still waiting

    layer.let_through.release()
    await asyncio.wait_for(push.flush_pushes(), timeout=5)
    assert layer.sent == ["mine", "later"]


@pytest.mark.asyncio
async def test_past_the_limit_pushes_are_dropped_not_queued(layer, monkeypatch, caplog):
    monkeypatch.setattr(push, "OUTBOX_LIMIT", 3)
    for number in range(5):  # handed over while the loop is busy: nothing is sent meanwhile
        push.outbox_put("room.1", push_event("room.1", str(number)))
    # Never a leave: the removed member's tabs must stop hearing the room.
    push.outbox_put("user.2", leave_event("user.2", leave="room.1", html="removed"))
    layer.open.set()
    await push.flush_pushes()
    assert [html for _, html in layer.sent] == ["0", "1", "2", "removed"]
    assert caplog.text.count("Outbox full") == 2


@pytest.mark.asyncio
async def test_a_failed_send_drops_its_batch_counted_and_the_next_ones_go_on(layer, caplog):
    layer.failing.add("lost")
    layer.open.set()
    dropped = metrics.PUSHES_DROPPED._value.get()

    def commit() -> None:  # three pushes of one carrier travel in one send, which fails
        for html in ("one", "lost", "three"):
            push.push_html("room.1", html)

    await sync_to_async(commit)()
    await push.flush_pushes()
    await sync_to_async(push.push_html)("room.1", "after")
    await push.flush_pushes()
    assert layer.sent == [("room.1", "after")]
    assert metrics.PUSHES_DROPPED._value.get() - dropped == 3
    assert "Could not push to room.1 (3 pushes)" in caplog.text


def test_outside_a_server_the_push_is_sent_before_returning(layer):
    layer.open.set()
    done = threading.Event()

    def plain_thread() -> None:  # a management command or the task worker
        push.push_html("room.1", "now")
        done.set()

    thread = threading.Thread(target=plain_thread)
    thread.start()
    thread.join(timeout=5)
    assert done.is_set()
    assert layer.sent == [("room.1", "now")]


class RecordingLayer:
    """A channel layer reached over the network (not in memory): records each group send and
    the event loop it was made on; with `stuck`, a send never finishes (Redis not answering)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, asyncio.AbstractEventLoop]] = []
        self.stuck = False

    async def group_send(self, group, message):
        if self.stuck:
            await asyncio.Event().wait()
        self.sent.append((message["html"], asyncio.get_running_loop()))


@pytest.fixture
def remote_layer(monkeypatch):
    layer = RecordingLayer()
    monkeypatch.setattr(push, "get_channel_layer", lambda: layer)
    return layer


@pytest.mark.asyncio
async def test_once_the_server_is_stopping_a_thread_sends_its_push_itself(remote_layer):
    loop = asyncio.get_running_loop()
    await sync_to_async(push.push_html)("room.1", "handed over")
    await push.close_outbox()
    # A write that commits from now on: its thread does not hand the push to a loop that is
    # about to end, it sends it on a loop of its own before going on.
    await sync_to_async(push.push_html)("room.1", "committed while stopping")

    assert [html for html, _ in remote_layer.sent] == ["handed over", "committed while stopping"]
    assert remote_layer.sent[0][1] is loop
    assert remote_layer.sent[1][1] is not loop


@pytest.mark.asyncio
async def test_a_push_that_cannot_leave_while_stopping_is_given_up_in_bounded_time(
    remote_layer, monkeypatch, caplog
):
    monkeypatch.setattr(push, "STOPPED_PUSH_SECONDS", 0.2)
    await push.close_outbox()
    remote_layer.stuck = True
    async with asyncio.timeout(5):
        await sync_to_async(push.push_html)("room.1", "lost")
    assert remote_layer.sent == []
    [record] = [r for r in caplog.records if r.name == "realtime.push"]
    assert record.getMessage() == (
        "Server stopping: a push to room.1 was not sent; pages resume from their cursors"
    )


@pytest.mark.asyncio
async def test_while_stopping_the_in_memory_layer_leaves_pushes_to_the_resume(layer, caplog):
    caplog.set_level("INFO", logger="realtime.push")
    await push.close_outbox()
    layer.open.set()
    await sync_to_async(push.push_html)("room.1", "kept for the resume")
    assert layer.sent == []
    assert [r.getMessage() for r in caplog.records if r.name == "realtime.push"] == [
        "Server stopping: a push to room.1 is left to the pages' resume"
    ]


@pytest.mark.asyncio
async def test_pushes_to_one_carrier_leave_in_the_order_they_were_numbered(monkeypatch):
    class UnevenLayer(InMemoryChannelLayer):
        """The first send yields before it is sent: without turns, the later ones, already
        scheduled, would overtake it."""

        def __init__(self) -> None:
            super().__init__()
            self.seqs: list[int] = []

        async def group_send(self, group, message):
            if not self.seqs and message["html"] == "0":
                await asyncio.sleep(0)  # not a wait: lets every other send run first
            self.seqs.append(message["seq"])

    layer = UnevenLayer()
    monkeypatch.setattr(push, "get_channel_layer", lambda: layer)
    await asyncio.gather(*(push.apush_html("room.1", str(n)) for n in range(5)))
    first = layer.seqs[0]
    assert layer.seqs == list(range(first, first + 5))
    assert push.get_turns().locks == {}  # nothing kept once the sends are done
