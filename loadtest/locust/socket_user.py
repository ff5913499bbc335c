"""The Locust user: one signed-in browser tab on a room page (see run.py for the run around
it, and connecting.py for what counts as a connect)."""

import json
import math
import random
import time
import uuid
from collections.abc import Callable

import websocket
from locust import User, constant, task
from locust.exception import StopUser

from loadtest.locust.connecting import (
    REFUSAL_WINDOW,
    FirstFrame,
    close_name,
    first_frame,
    full_jitter_delay,
    refused_for_good,
)
from loadtest.locust.delivery import ANNOUNCEMENTS
from loadtest.locust.inbox import Inbox, Seen
from loadtest.locust.ledger import Connection
from loadtest.locust.markers import Frame, Kind, Marker, classify, make_body
from loadtest.locust.process import STATE, Refused, allow_remote, fire, options_of
from loadtest.locust.safety import (
    UnsafeTarget,
    check_targets,
    http_origin,
    socket_url,
)
from loadtest.locust.scenarios import (
    upcoming_storm,
    user_index,
)

CONNECT_TIMEOUT = 20.0
ACK_WAIT = 2.0  # seconds a socket about to drop waits for its sends to be acknowledged
CLOSE_NORMAL = 1000
BACK_OFF_STEP = 0.1  # seconds between looks at whether the run is ending, while backing off


def hang_up(ws: websocket.WebSocket) -> None:
    """Close the TCP connection without the closing handshake."""
    shutdown: Callable[[], None] = ws.shutdown
    shutdown()


def close_status(data: bytes | str) -> int:
    raw = data.encode() if isinstance(data, str) else data
    return int.from_bytes(raw[:2], "big") if len(raw) >= 2 else 1005


class PageSocketUser(User):
    """A signed-in browser tab on a room page: one socket, opened the way the page opens it,
    and kept open (or dropped and reopened, as the scenario says) until the run ends."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.ready = False
        self.ws: websocket.WebSocket | None = None
        self.connection: Connection | None = None
        self.inbox = Inbox()
        self.pending: dict[str, tuple[float, int]] = {}  # client id -> (sent at, seq), until acked
        self.seq = 0
        self.last_message_id = 0
        self.retries = 0  # failed attempts since the last socket that opened (the page's count)
        self.connections = 0
        self.storm: tuple[int, float] | None = None  # the storm this user dropped for
        plan = STATE.plan
        options = options_of(self.environment)
        if plan is None:
            STATE.warn_once("plan", "loadtest: this process has no plan for the run")
            return
        try:
            hosts = check_targets(self.host, allow_remote=allow_remote(options))
            rows = STATE.rows(options.users_csv)
        except (UnsafeTarget, OSError, ValueError) as error:
            STATE.warn_once("start", "loadtest: %s", error)
            return
        self.plan = plan
        self.index = user_index(STATE.slot, STATE.slots, STATE.users_started)
        STATE.users_started += 1
        if self.index >= len(rows):
            STATE.warn_once(
                "rows",
                "loadtest: more users than rows in %s; some sessions open several sockets",
                options.users_csv,
            )
        self.username, self.session_key = rows[self.index % len(rows)]
        self.person = str(self.index)
        self.base_url = hosts[self.index % len(hosts)]  # users spread over the servers
        self.room = plan.room_for(self.index)
        self.sender = f"u{self.index}"
        self.sends = plan.sends(self.index)
        # Jitter, not secrets: seeded per user so a run's schedule can be reproduced.
        self.rng = random.Random(f"{plan.run}-{self.index}")  # noqa: S311
        self.origin = getattr(options, "origin", None) or http_origin(self.base_url)
        self.url = socket_url(self.base_url, f"/ws/?room={self.room}")
        self.ready = True

    def on_stop(self) -> None:
        self.disconnect(deliberate=True)

    @task
    def keep_the_page_open(self) -> None:
        if not self.ready:
            raise StopUser()
        ws = self.connect()
        if ws is None:
            self.back_off()
            return
        self.retries = 0
        deliberate = False
        try:
            deliberate = self.converse(ws)
        finally:
            self.disconnect(deliberate=deliberate)
        if deliberate and self.storm is not None:
            STATE.ledger.storm_dropped(self.person, *self.storm, at=time.time())
        # Dropped by the server, or by a storm (which stands for a server restart): the page
        # reconnects after a full-jitter delay either way.
        self.back_off()

    def back_off(self) -> None:
        """Wait before connecting again, as the page does (full jitter, growing). Once the
        run is ending the wait is cut short: the page would reconnect and resume later, and
        what it would then hold is what the per-person figure counts, within `settle`."""
        until = time.time() + full_jitter_delay(self.retries, self.rng)
        self.retries += 1
        while time.time() < until and not STATE.ledger.quiesced:
            time.sleep(min(BACK_OFF_STEP, max(until - time.time(), 0)))

    # -- the socket's life

    def connect(self) -> websocket.WebSocket | None:
        started = time.time()
        ws = None
        try:
            ws = websocket.create_connection(
                self.url,
                timeout=CONNECT_TIMEOUT,
                origin=self.origin,
                cookie=f"sessionid={self.session_key}",
                enable_multithread=False,
            )
            opened_at = time.time()
            frames = self.await_acceptance(ws)
        except websocket.WebSocketBadStatusException as error:
            self.connect_failed(ws, started, "connect failed", f"HTTP {error.status_code}", error)
            return None
        except websocket.WebSocketTimeoutException as error:
            self.connect_failed(ws, started, "connect failed", "timeout", error)
            return None
        except (websocket.WebSocketException, OSError) as error:
            reason = type(error).__name__
            self.connect_failed(ws, started, "connect failed", reason, error)
            return None
        if isinstance(frames, int):
            code = frames
            refusal = Refused(f"refused with close code {close_name(code)}")
            self.connect_failed(
                ws, started, f"refused {close_name(code)}", close_name(code), refusal
            )
            if refused_for_good(code):
                STATE.warn_once(
                    f"close-{code}", "loadtest: the server refused sockets for good: %s", refusal
                )
                STATE.ledger.left(self.person, time.time())
                raise StopUser()
            return None
        ready_at = time.time()
        length = sum(len(frame) for frame in frames)
        self.measure("connect", (ready_at - started) * 1000, length)
        STATE.ledger.storm_reopened(self.person, ready_at)
        self.ws = ws
        STATE.ledger.joined(self.person, self.room, opened_at)
        self.connection = STATE.ledger.opened(self.room, opened_at, self.base_url)
        # The page asks for what it missed since the newest message it showed before this
        # socket opened: a live push among the first frames must not move that cursor past
        # a message that was pushed to no socket of this person.
        after = self.last_message_id
        for frame in frames:
            self.handle(frame, ready_at)
        self.connections += 1
        if self.plan.resume and self.connections > 1 and after:
            ws.send(json.dumps({"action": "chat.resume", "after": after}))
            self.connection.resumed = True
        return ws

    def await_acceptance(self, ws: websocket.WebSocket) -> list[bytes | str] | int:
        """The first frames of an accepted socket, or the close code of a refused one: the
        server refuses after accepting, with the error line then a close (connecting.py)."""
        opcode, data = ws.recv_data()
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return close_status(data)
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        if first_frame(text) is FirstFrame.ACCEPTED:
            return [data]
        ws.settimeout(REFUSAL_WINDOW)
        try:
            opcode, more = ws.recv_data()
        except websocket.WebSocketTimeoutException:
            return [data]  # still open: an error on an accepted socket, not a refusal
        finally:
            ws.settimeout(CONNECT_TIMEOUT)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return close_status(more)
        return [data, more]

    def connect_failed(
        self,
        ws: websocket.WebSocket | None,
        started: float,
        name: str,
        reason: str,
        error: BaseException,
    ) -> None:
        if ws is not None:
            hang_up(ws)
        fire(self.environment, "WS", name, (time.time() - started) * 1000, 0, error)
        STATE.ledger.connection_failed(reason, self.base_url, person=self.person)

    def converse(self, ws: websocket.WebSocket) -> bool:
        """Receive until the socket closes (False) or the storm drops it (True); send on
        schedule meanwhile."""
        interval = 1 / self.plan.send_rate if self.sends else math.inf
        now = time.time()
        next_send = now + self.rng.uniform(0, interval) if self.sends else math.inf
        drop_at = math.inf
        self.storm = upcoming_storm(now, self.plan)
        if self.storm is not None:
            drop_at = self.storm[1] + self.rng.uniform(0, self.plan.storm_jitter)
        while True:
            now = time.time()
            if STATE.ledger.quiesced:  # the run is ending: only receive from now on
                next_send = drop_at = math.inf
            if now >= drop_at:
                return self.drain(ws)
            if now >= next_send:
                if not self.send(ws):
                    return False
                next_send += interval
                if next_send < now - 1.0:  # more than a second behind: skip, don't burst
                    next_send = now + interval
            wake = min(next_send, drop_at)
            ws.settimeout(None if wake == math.inf else max(wake - time.time(), 0.001))
            if not self.receive(ws):
                return False

    def send(self, ws: websocket.WebSocket) -> bool:
        sent_at = time.time()
        marker = Marker(self.plan.run, self.sender, self.seq, sent_at)
        client_id = str(uuid.uuid4())
        frame = {
            "action": "chat.send",
            "body": make_body(marker, self.plan.message_bytes),
            "client_id": client_id,
        }
        try:
            ws.send(json.dumps(frame))
        except (websocket.WebSocketException, OSError) as error:
            self.dropped(f"send: {type(error).__name__}")
            return False
        self.pending[client_id] = (sent_at, self.seq)
        STATE.ledger.sent(self.room, self.sender, self.seq, sent_at)
        self.seq += 1
        return True

    def receive(self, ws: websocket.WebSocket) -> bool:
        """One frame, or a timeout; False once the socket is gone."""
        try:
            opcode, data = ws.recv_data()
        except websocket.WebSocketTimeoutException:
            return True
        except (websocket.WebSocketException, OSError) as error:
            self.dropped(type(error).__name__)
            return False
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            self.dropped(close_name(close_status(data)))
            return False
        self.handle(data, time.time())
        return True

    def measure(self, name: str, ms: float, length: int) -> None:
        """A successful timing: to Locust, and to the ledger's per-second percentiles."""
        fire(self.environment, "WS", name, ms, length)
        now = time.time()
        STATE.ledger.record_latency(name, now, ms)
        if STATE.samples is not None:
            STATE.samples.write(
                at=now, name=name, ms=ms, host=self.base_url, room=self.room, user=self.username
            )

    def dropped(self, reason: str) -> None:
        """The server or the network closed a socket this user meant to keep."""
        STATE.ledger.dropped(reason, self.base_url)
        fire(self.environment, "WS", f"drop {reason}", 0, 0, Refused(f"socket closed: {reason}"))

    def drain(self, ws: websocket.WebSocket) -> bool:
        """Before a deliberate drop: wait a little for outstanding acknowledgements."""
        deadline = time.time() + ACK_WAIT
        while self.pending and time.time() < deadline:
            ws.settimeout(max(deadline - time.time(), 0.001))
            if not self.receive(ws):
                return False
        return True

    def disconnect(self, *, deliberate: bool) -> None:
        if self.connection is not None:
            STATE.ledger.closed(self.connection, time.time())
            self.connection = None
        self.pending.clear()  # the ledger keeps them until they are seen
        ws, self.ws = self.ws, None
        if ws is not None and ws.connected:
            try:
                if deliberate:
                    ws.close(status=CLOSE_NORMAL, timeout=1)
                else:
                    hang_up(ws)
            except (websocket.WebSocketException, OSError):
                hang_up(ws)

    # -- what arrives

    def handle(self, data: bytes | str, received_at: float) -> None:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        frame = classify(text)
        if frame.kind in (Kind.ACK, Kind.REJECTED):
            self.acknowledged(frame, received_at, len(text))
        elif frame.kind in (Kind.MESSAGE, Kind.REFRESHED):
            refreshed = frame.kind is Kind.REFRESHED
            for message_id, marker in frame.messages:
                self.last_message_id = max(self.last_message_id, message_id)
                if marker is not None and marker.run == self.plan.run:
                    self.deliver(self.room, marker, received_at, len(text), message_id, refreshed)
        elif frame.kind is Kind.ANNOUNCEMENT:
            for marker in frame.markers:
                if marker.run == self.plan.run:
                    self.deliver(ANNOUNCEMENTS, marker, received_at, len(text))

    def acknowledged(self, frame: Frame, received_at: float, length: int) -> None:
        pending = self.pending.pop(frame.answered, None)
        if pending is None:
            return
        sent_at, seq = pending
        rejected = frame.kind is Kind.REJECTED
        error = Refused("the server rejected the message") if rejected else None
        if rejected:
            fire(self.environment, "WS", "ack", (received_at - sent_at) * 1000, length, error)
        else:
            self.measure("ack", (received_at - sent_at) * 1000, length)
        STATE.ledger.record_ack(self.room, self.sender, seq, rejected=rejected)

    def deliver(
        self,
        stream: str,
        marker: Marker,
        received_at: float,
        length: int,
        message_id: int | None = None,
        refreshed: bool = False,
    ) -> None:
        connection = self.connection
        if connection is None:
            return
        seen = self.inbox.see(marker.sender, marker.seq)
        if refreshed and seen is Seen.DUPLICATE:
            return  # the conversation shown again, not a duplicate delivery
        connection.deliver(stream, marker.sent_at, received_at, seen, message_id)
        if seen is Seen.DUPLICATE:
            return
        STATE.ledger.person_received(self.person, stream, marker.sent_at)
        if marker.sender == self.sender:
            STATE.ledger.echoed(stream, self.sender, marker.seq)
        live = marker.sent_at >= connection.start
        if not live and connection.resumed:
            name = "replay"  # most likely caught up by chat.resume; its latency spans the gap
        else:
            name = "announcement" if stream == ANNOUNCEMENTS else "deliver"
        latency = max(0.0, (received_at - marker.sent_at) * 1000)
        self.measure(name, latency, length)
        if live:
            STATE.ledger.record_delivery(received_at)
