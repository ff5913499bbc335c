import asyncio
import json
import time

import pytest

from realtime.inbound import (
    BAD_TEXT,
    BINARY,
    NO_ACTION,
    NOT_JSON,
    NOT_OBJECT,
    TOO_DEEP,
    TOO_LARGE,
    Failures,
    Inbox,
    decode_frame,
    encodable,
    has_bad_text,
    nesting_depth_over,
)

LIMITS = {"max_chars": 65_536, "max_depth": 16}


def nested(depth: int) -> str:
    return '{"action": "x", "a": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


@pytest.mark.parametrize(
    ("text", "deeper"),
    [
        ("{}", False),
        (nested(16), False),
        (nested(17), True),
        # Brackets inside strings are text, not nesting.
        ('{"action": "' + "[" * 500 + '"}', False),
        ('{"action": "\\"' + "{" * 500 + '"}', False),
        # 40 KB of nesting: what made json.loads raise RecursionError.
        ("[" * 20_000 + "]" * 20_000, True),
        # Wide is not deep.
        ("[" + ",".join(["[[1]]"] * 5000) + "]", False),
    ],
)
def test_nesting_depth_is_found_without_parsing(text, deeper):
    assert nesting_depth_over(text, limit=16) is deeper


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (None, BINARY),
        ("x" * 65_537, TOO_LARGE),
        ("[" * 20_000 + "]" * 20_000, TOO_DEEP),
        ('{"action": ' + "[" * 1000, TOO_DEEP),
        ("{not json", NOT_JSON),
        ("[1]", NOT_OBJECT),
        ('{"action": 5}', NO_ACTION),
        ('{"action": "\\ud800"}', BAD_TEXT),
        ('{"action": "chat.send", "body": "\\ud83d"}', BAD_TEXT),
        ('{"action": "chat.send", "body": "a\\u0000b"}', BAD_TEXT),
        # A raw control character in a string is not JSON at all.
        ('{"action": "chat.send", "body": "a\x00b"}', NOT_JSON),
        ('{"action": "chat.send", "\\udfff": 1}', BAD_TEXT),
        ('{"action": "chat.send", "ids": [["\\udc00"]]}', BAD_TEXT),
    ],
)
def test_frames_that_are_refused_and_why(text, error):
    assert decode_frame(text, **LIMITS) == error


def test_a_frame_with_a_surrogate_pair_is_accepted():
    assert decode_frame('{"action": "chat.send", "body": "\\ud83d\\ude00"}', **LIMITS) == {
        "action": "chat.send",
        "body": "\N{GRINNING FACE}",
    }


def test_a_frame_at_the_depth_limit_is_parsed():
    frame = decode_frame(nested(16), **LIMITS)
    assert isinstance(frame, dict)
    assert frame["action"] == "x"


@pytest.mark.parametrize(
    ("value", "bad"),
    [("plain", False), ("\N{GRINNING FACE}", False), ("\x00", True), ("\ud800", True)],
)
def test_bad_text(value, bad):
    assert has_bad_text(value) is bad
    assert has_bad_text({"k": [value]}) is bad


def test_encodable_escapes_lone_surrogates_only():
    assert encodable("Unknown action “\ud800”.") == "Unknown action “\\ud800”."
    assert encodable("fine \N{GRINNING FACE}") == "fine \N{GRINNING FACE}"
    encodable("\udfff" * 3).encode("utf-8")  # does not raise


def test_failures_are_logged_once_per_kind_and_the_rest_counted():
    failures = Failures()
    assert [failures.note("invalid") for _ in range(3)] == [True, False, False]
    assert failures.note("over budget") is True
    assert failures.unlogged() == {"invalid": 2}


def test_json_dumps_of_a_surrogate_round_trips_to_the_refusal():
    # What a hostile client sends: JSON's own escape of a lone surrogate.
    assert decode_frame(json.dumps({"action": "\ud800"}), **LIMITS) == BAD_TEXT


@pytest.mark.asyncio
async def test_the_inbox_holds_frames_up_to_its_bounds_and_never_refuses_a_disconnect():
    inbox = Inbox(frames=2, size=10)
    frame = {"type": "websocket.receive", "text": "12345"}
    assert [inbox.put(frame), inbox.put(frame), inbox.put(frame)] == [True, True, False]
    assert inbox.put({"type": "websocket.disconnect", "code": 1000})
    assert [(await inbox.get())["type"] for _ in range(3)] == [
        "websocket.receive",
        "websocket.receive",
        "websocket.disconnect",
    ]
    assert inbox.held == 0


@pytest.mark.asyncio
async def test_an_empty_inbox_holds_no_queue_and_wakes_its_waiting_reader():
    inbox = Inbox(frames=2, size=10)
    reading = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert inbox.waiting is None
    assert inbox.put({"type": "websocket.receive", "text": "12345"})
    assert (await reading)["text"] == "12345"
    assert inbox.waiting is None
    assert inbox.wakeup is None
    assert inbox.held == 0


@pytest.mark.asyncio
async def test_a_reader_that_stops_waiting_loses_nothing_put_after():
    inbox = Inbox(frames=2, size=10)
    reading = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    assert inbox.wakeup is None
    assert inbox.put({"type": "websocket.receive", "text": "12345"})
    assert (await inbox.get())["text"] == "12345"


def test_the_inbox_is_bounded_by_size():
    inbox = Inbox(frames=100, size=10)
    assert inbox.put({"type": "websocket.receive", "text": "12345"})
    assert not inbox.put({"type": "websocket.receive", "text": "123456"})
    assert inbox.put({"type": "websocket.receive", "text": "12345"})
    assert inbox.held == 10


@pytest.mark.parametrize(
    "tail",
    [
        # Every quote is escaped: no string ever closes.
        '"' + '\\"' * 32_700,
        '"' + '\\"' * 32_700 + "\\",
    ],
)
def test_nesting_depth_of_an_unterminated_string_is_found_in_linear_time(tail):
    # Each escaped quote used to start a match that scanned to the end and failed: a frame of
    # the largest allowed size held the event loop for about 30 s. Linear, it takes milliseconds.
    text = "[" * 20 + tail
    assert len(text) <= LIMITS["max_chars"]
    started = time.perf_counter()
    assert nesting_depth_over(text, limit=16) is True
    assert decode_frame(text, **LIMITS) == TOO_DEEP
    assert time.perf_counter() - started < 1.0
