"""Completeness accounting: windows, gaps, duplicates, order, and combining processes."""

import json

import pytest

from loadtest.locust.delivery import (
    ANNOUNCEMENTS,
    Connection,
    Inbox,
    Ledger,
    Seen,
    SenderSequence,
    format_summary,
    summarise,
    timeline,
)

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
        a.record_send("general", sent)
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


def test_sends_still_waiting_for_their_ack_count_as_unacknowledged():
    ledger = Ledger()
    for n in range(4):
        ledger.record_send("general", T0 + n, awaits_ack=True)
    ledger.record_ack()
    ledger.record_ack(rejected=True)
    ledger.unacknowledged(1)  # a socket closed with one waiting
    snapshot = ledger.snapshot(T0 + 10)
    assert (snapshot["acks"], snapshot["rejected"], snapshot["unacked"]) == (1, 1, 2)


def test_nothing_is_sent_after_the_quiesce():
    ledger = Ledger()
    ledger.record_send("general", T0)
    ledger.quiesce(T0 + 1)
    ledger.record_send("general", T0 + 2)
    assert ledger.sends == {"general": [T0]}


def test_timeline_counts_open_sockets_and_deliveries_per_second():
    ledger = Ledger(settle=0.0)
    first = ledger.opened("r", T0 + 0.5)
    ledger.opened("r", T0 + 2.0)
    ledger.closed(first, T0 + 3.5)
    ledger.record_delivery(T0 + 2.2)
    ledger.record_delivery(T0 + 2.9)
    summary = summarise([ledger.snapshot(T0 + 5.0)])
    assert summary["timeline"] == {
        "start": int(T0),
        "open": [0, 1, 2, 2, 1, 0],
        "connects": [1, 0, 1, 0, 0, 0],
        "deliveries": [0, 0, 2, 0, 0, 0],
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
