"""Completeness accounting: windows, gaps, duplicates, order, and combining processes."""

import json

import pytest

from loadtest.locust.delivery import ANNOUNCEMENTS, format_summary, summarise, timeline
from loadtest.locust.inbox import Inbox, Seen, SenderSequence
from loadtest.locust.latency import latency_bucket, percentile_of
from loadtest.locust.ledger import Connection, Ledger

T0 = 1_790_000_000.0


def test_sender_sequence_tells_new_late_and_duplicate():
    sequence = SenderSequence()
    assert sequence.see(5) is Seen.NEW  # joined mid-stream: the first one seen starts it
    assert sequence.see(6) is Seen.NEW
    assert sequence.see(9) is Seen.NEW  # 7 and 8 are now gaps
    assert sequence.see(8) is Seen.LATE
    assert sequence.see(8) is Seen.DUPLICATE
    assert sequence.see(6) is Seen.DUPLICATE
    assert sequence.see(7) is Seen.LATE
    assert sequence.missing == set()


def test_inbox_keeps_senders_apart():
    inbox = Inbox()
    assert inbox.see("u1", 0) is Seen.NEW
    assert inbox.see("u2", 0) is Seen.NEW
    assert inbox.see("u1", 0) is Seen.DUPLICATE


def test_connection_counts_only_its_window():
    connection = Connection("room", T0, grace=0.5, settle=3.0)
    connection.deliver("room", T0 + 0.2, T0 + 0.6, Seen.NEW, 10)  # before start: not owed
    connection.deliver("room", T0 + 1.0, T0 + 1.1, Seen.NEW, 11)
    connection.deliver("room", T0 + 2.0, T0 + 2.1, Seen.NEW, 13)
    connection.deliver("room", T0 + 2.5, T0 + 2.6, Seen.LATE, 12)  # id lower than 13
    connection.deliver("room", T0 + 2.0, T0 + 2.7, Seen.DUPLICATE, 13)
    connection.deliver(ANNOUNCEMENTS, T0 + 3.0, T0 + 3.2, Seen.NEW)
    connection.deliver("room", T0 + 8.0, T0 + 8.1, Seen.NEW, 14)  # within settle of close

    record = connection.close(T0 + 10.0)
    assert (record.start, record.end) == (T0 + 0.5, T0 + 7.0)
    assert record.received == {"room": 3, ANNOUNCEMENTS: 1}
    assert record.before_open == 1
    assert record.duplicates == 1
    assert record.out_of_order == 1


def test_a_window_can_end_when_sending_stopped():
    connection = Connection("room", T0, grace=0.0, settle=3.0)
    connection.deliver("room", T0 + 5.0, T0 + 6.0, Seen.NEW, 1)
    record = connection.close(T0 + 9.0, end=T0 + 5.5)
    assert record.end == T0 + 5.5
    assert record.received == {"room": 1}


def test_old_deliveries_are_not_kept_in_memory():
    connection = Connection("room", T0, grace=0.0, settle=1.0)
    for n in range(100):
        connection.deliver("room", T0 + n, T0 + n + 0.1, Seen.NEW, n + 1)
    assert len(connection.recent) <= 2
    assert connection.close(T0 + 200).received == {"room": 100}


def two_processes():
    """Process A: the sender and one listener; process B: two listeners, one late."""
    a, b = Ledger(settle=2.0), Ledger(settle=2.0)
    listener_a = a.opened("general", T0)
    listeners_b = [b.opened("general", T0), b.opened("general", T0 + 5.0)]
    for n in range(10):
        sent = T0 + 1 + n
        a.sent("general", "u0", n, sent)
        a.record_ack("general", "u0", n)
        for ledger, connection in [(a, listener_a), *((b, c) for c in listeners_b)]:
            if sent >= connection.start and n != 7:  # message 7 reaches nobody in B or A
                connection.deliver("general", sent, sent + 0.05, Seen.NEW, n + 1)
                ledger.record_delivery(sent + 0.05)
    a.record_send(ANNOUNCEMENTS, T0 + 4.0)
    for connection in (listener_a, listeners_b[0]):  # the late socket opened after it
        connection.deliver(ANNOUNCEMENTS, T0 + 4.0, T0 + 4.2, Seen.NEW)
    a.quiesce(T0 + 11.0)
    return a.snapshot(T0 + 13.0), b.snapshot(T0 + 13.0)


def test_summary_lines_sends_of_one_process_up_with_sockets_of_another():
    summary = summarise(two_processes())
    # 10 messages: two sockets saw all from T0, the third from T0+5 (messages 4..9).
    assert summary["streams"]["chat"]["expected"] == 10 + 10 + 6
    assert summary["streams"]["chat"]["received"] == 9 + 9 + 5
    assert summary["streams"]["announcements"] == {"expected": 2, "received": 2, "ratio": 1.0}
    assert summary["missing"] == 3
    assert summary["ratio"] == round(25 / 28, 6)
    assert summary["sent"] == {"chat": 10, "announcements": 1}
    assert summary["connections"] == 3
    assert summary["processes"] == 2


def test_snapshots_are_plain_json_and_freeze_the_ledger():
    a, _ = two_processes()
    assert json.loads(json.dumps(a)) == a

    ledger = Ledger()
    connection = ledger.opened("general", T0)
    ledger.snapshot(T0 + 5)
    ledger.record_send("general", T0 + 6)
    ledger.closed(connection, T0 + 7)
    ledger.connection_failed("timeout")
    assert ledger.sends == {}
    assert len(ledger.records) == 1
    assert not ledger.connect_failures


def test_a_send_is_owed_once_acknowledged_or_seen_by_its_sender():
    ledger = Ledger()
    for n in range(5):
        ledger.sent("general", "u0", n, T0 + n)
    ledger.record_ack("general", "u0", 0)
    ledger.record_ack("general", "u0", 1, rejected=True)  # refused: it never exists
    ledger.echoed("general", "u0", 2)  # its socket closed before the ack; it came back
    ledger.echoed("general", "u0", 0)  # already counted
    snapshot = ledger.snapshot(T0 + 10)
    assert snapshot["sends"] == {"general": [T0, T0 + 2]}
    assert (snapshot["acks"], snapshot["rejected"], snapshot["unacked"]) == (1, 1, 2)
    assert snapshot["unconfirmed"] == {"general": [T0 + 3, T0 + 4]}
    assert snapshot["attempts"] == 5


def test_an_ack_after_the_quiesce_counts_a_send_made_before_it():
    ledger = Ledger()
    ledger.sent("general", "u0", 0, T0)
    ledger.quiesce(T0 + 1)
    ledger.sent("general", "u0", 1, T0 + 2)  # not made: sending stopped
    ledger.record_ack("general", "u0", 0)
    assert ledger.sends == {"general": [T0]}
    assert ledger.attempts == 1


def test_a_person_is_owed_what_was_sent_while_they_were_a_member():
    # u1 joined at T0+2; its socket was down from T0+4 to T0+6 and resume brought back one of
    # the two messages sent meanwhile. Its live sockets missed nothing.
    sender, listener = Ledger(settle=1.0), Ledger(settle=1.0)
    for n in range(10):
        sender.sent("general", "u0", n, T0 + 1 + n)
        sender.record_ack("general", "u0", n)
    listener.joined("u1", "general", T0 + 2)
    for n in range(1, 10):  # messages sent at T0+2 .. T0+10
        if n != 3:  # T0+4 was lost, T0+5 came back on resume
            listener.person_received("u1", "general", T0 + 1 + n)
    listener.joined("u2", "general", T0 + 6)
    listener.joined("u1", "general", T0 + 9)  # a second connection does not move the start
    for n in range(5, 10):
        listener.person_received("u2", "general", T0 + 1 + n)
    listener.left("u2", T0 + 9.5)  # refused for good: owed nothing after 9.5 - settle
    listener.quiesce(T0 + 11)
    summary = summarise([sender.snapshot(T0 + 12), listener.snapshot(T0 + 12)])
    assert summary["person"] == {
        "people": 2,
        "short": 1,
        "expected": 9 + 3,  # u1: T0+2..T0+10; u2: T0+6..T0+8.5
        "received": 8 + 3,
        "missing": 1,
        "extra": 0,  # what u2 holds from after it left is outside its window
        "ratio": round(11 / 12, 6),
    }


def test_a_person_holding_messages_no_ledger_knows_of_is_extra():
    # The ledger of the process that sent them is missing: what people hold is unexplained.
    listener = Ledger()
    listener.joined("u1", "general", T0)
    for n in range(3):
        listener.person_received("u1", "general", T0 + 1 + n)
    listener.quiesce(T0 + 5)
    summary = summarise([listener.snapshot(T0 + 6)])
    assert summary["person"]["extra"] == 3
    assert summary["person"]["ratio"] is None


def test_holding_a_send_that_was_never_acknowledged_is_not_extra():
    sender, listener = Ledger(), Ledger()
    sender.sent("general", "u0", 0, T0 + 1)  # its socket closed before the ack
    listener.joined("u1", "general", T0)
    listener.person_received("u1", "general", T0 + 1)
    listener.quiesce(T0 + 5)
    sender.quiesce(T0 + 5)
    summary = summarise([sender.snapshot(T0 + 6), listener.snapshot(T0 + 6)])
    assert summary["person"]["extra"] == 0
    assert summary["person"]["expected"] == 0


def test_nothing_is_sent_after_the_quiesce():
    ledger = Ledger()
    ledger.record_send("general", T0)
    ledger.quiesce(T0 + 1)
    ledger.record_send(ANNOUNCEMENTS, T0 + 2)
    assert ledger.sends == {"general": [T0]}


def test_timeline_counts_open_sockets_and_deliveries_per_second():
    ledger = Ledger(settle=0.0)
    first = ledger.opened("r", T0 + 0.5)
    ledger.opened("r", T0 + 2.0)
    ledger.closed(first, T0 + 3.5)
    ledger.record_delivery(T0 + 2.2)
    ledger.record_delivery(T0 + 2.9)
    ledger.dropped("closed 1012", at=T0 + 3.5)
    summary = summarise([ledger.snapshot(T0 + 5.0)])
    assert summary["timeline"] == {
        "start": int(T0),
        "open": [0, 1, 2, 2, 1, 0],
        "connects": [1, 0, 1, 0, 0, 0],
        "deliveries": [0, 0, 2, 0, 0, 0],
        "drops": [0, 0, 0, 1, 0, 0],
    }
    assert timeline([], {})["start"] is None


def test_failures_and_drops_add_up_across_processes():
    a, b = Ledger(), Ledger()
    a.connection_failed("HTTP 500")
    b.connection_failed("HTTP 500")
    b.connection_failed("timeout")
    b.dropped("closed 1011")
    summary = summarise([a.snapshot(T0), b.snapshot(T0)])
    assert summary["connect_failures"] == 3
    assert summary["connect_failures_by_reason"] == {"HTTP 500": 2, "timeout": 1}
    assert summary["drops_by_reason"] == {"closed 1011": 1}
    assert summary["ratio"] is None  # nothing was expected


@pytest.mark.parametrize(("processes", "expected_text"), [(two_processes(), "ratio 0.8929")])
def test_format_summary_reads_well(processes, expected_text):
    text = format_summary(summarise(processes))
    assert expected_text in text
    assert "3 missing" in text
    assert "announcements: 2/2" in text


@pytest.mark.parametrize(("ms", "bucket"), [(7.4, 7), (99.6, 100), (123, 120), (1260, 1300)])
def test_latency_bucket_rounds_like_locust(ms, bucket):
    assert latency_bucket(ms) == bucket


def test_percentile_of_a_histogram():
    assert percentile_of({10: 50, 20: 45, 300: 5}, 0.5) == 10
    assert percentile_of({10: 50, 20: 45, 300: 5}, 0.95) == 20
    assert percentile_of({10: 50, 20: 45, 300: 5}, 0.99) == 300
    assert percentile_of({}, 0.5) is None


def test_latency_per_second_leaves_silent_seconds_empty():
    # Two processes measure; nothing arrives in the second second (an outage).
    a, b = Ledger(), Ledger()
    a.record_latency("deliver", T0 + 0.2, 10)
    b.record_latency("deliver", T0 + 0.7, 30)
    a.record_latency("deliver", T0 + 2.5, 900)
    summary = summarise([a.snapshot(T0 + 3), b.snapshot(T0 + 3)])
    assert summary["latency"] == {
        "deliver": {
            "start": int(T0),
            "count": [2, 0, 1],
            "p50": [10, None, 900],
            "p95": [30, None, 900],
            "p99": [30, None, 900],
            "max": [30, None, 900],
        }
    }
