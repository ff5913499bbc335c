import threading

import pytest

from realtime import sequence
from realtime.sequence import Gap, Stamper, Tracker


@pytest.mark.parametrize(
    ("seqs", "gaps"),
    [
        ([1, 2, 3], []),
        ([5, 6, 7], []),  # a receiver that subscribed late takes the first number as given
        ([1, 2, 4], [range(3, 4)]),
        ([1, 5, 6, 9], [range(2, 5), range(7, 9)]),
        ([1, 2, 2, 3], []),  # delivered twice
        ([3, 1, 4], []),  # an old one again: nothing skipped
    ],
)
def test_a_receiver_reports_the_numbers_a_sender_skipped(seqs, gaps):
    tracker = Tracker()
    found = [tracker.seen("room", "a", seq) for seq in seqs]
    assert [gap for gap in found if gap is not None] == [Gap("room", "a", r) for r in gaps]


def test_senders_and_streams_are_followed_apart():
    tracker = Tracker()
    assert tracker.seen("room", "a", 1) is None
    assert tracker.seen("room", "b", 7) is None
    assert tracker.seen("lobby", "a", 9) is None
    assert tracker.seen("room", "a", 2) is None
    assert tracker.seen("room", "b", 9) == Gap("room", "b", range(8, 9))


def test_a_forgotten_stream_starts_afresh():
    tracker = Tracker()
    tracker.seen("room", "a", 1)
    tracker.seen("lobby", "a", 1)
    tracker.forget(["room"])
    assert tracker.seen("room", "a", 10) is None
    assert tracker.seen("lobby", "a", 3) == Gap("lobby", "a", range(2, 3))
    tracker.forget()
    assert tracker.streams == {}


def test_a_receiver_follows_a_bounded_number_of_senders(monkeypatch):
    monkeypatch.setattr(sequence, "SOURCES_PER_STREAM", 3)
    tracker = Tracker()
    for source in "abcd":
        tracker.seen("room", source, 1)
    assert list(tracker.streams["room"]) == ["b", "c", "d"]
    assert tracker.seen("room", "a", 5) is None  # forgotten: taken as new


def test_a_sender_numbers_each_stream_from_one():
    stamper = Stamper()
    stamps = [stamper.stamp(stream) for stream in ("room", "room", "lobby", "room")]
    assert [s["seq"] for s in stamps] == [1, 2, 1, 3]
    assert {s["src"] for s in stamps} == {stamper.source}


def test_each_thread_is_a_sender_of_its_own():
    stamper = Stamper()
    here = stamper.stamp("room")
    there: list[dict[str, object]] = []
    thread = threading.Thread(target=lambda: there.append(stamper.stamp("room")))
    thread.start()
    thread.join()
    assert here["seq"] == there[0]["seq"] == 1
    assert here["src"] != there[0]["src"]


def test_a_sender_with_too_many_streams_starts_afresh_under_a_new_name(monkeypatch):
    monkeypatch.setattr(sequence, "SENDER_STREAMS_LIMIT", 2)
    stamper = Stamper()
    first = [stamper.stamp(stream) for stream in ("a", "b")]
    after = stamper.stamp("a")
    assert after["seq"] == 1
    assert after["src"] != first[0]["src"]
