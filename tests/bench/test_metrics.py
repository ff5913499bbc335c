import pytest

from bench import metrics


@pytest.mark.parametrize(
    ("values", "percent", "expected"),
    [
        ([], 50, 0.0),
        ([7], 99, 7.0),
        ([1, 2, 3, 4], 50, 2.0),
        ([1, 2, 3, 4], 75, 3.0),
        ([1, 2, 3, 4], 100, 4.0),
        (list(range(1, 101)), 99, 99.0),
    ],
)
def test_percentile_is_the_nearest_rank(values, percent, expected):
    assert metrics.percentile(values, percent) == expected


def test_summary_scales_each_figure():
    assert metrics.summary([1000, 3000, 2000], scale=0.001) == {
        "p50": 2.0,
        "p90": 3.0,
        "p99": 3.0,
        "max": 3.0,
    }


def chat_reply(**overrides):
    reply = {
        "sent": {},
        "send_errors": {},
        "received": 0,
        "duplicates": 0,
        "out_of_order": 0,
        "acks": 0,
        "rejections": 0,
        "latencies_us": [],
        "last_received_ns": 0,
    }
    return reply | overrides


def test_delivered_expects_every_message_on_every_member_of_its_room():
    second = 1_000_000_000
    replies = [
        chat_reply(
            sent={"a": 3}, received=10, latencies_us=[1000] * 10, last_received_ns=2 * second
        ),
        chat_reply(sent={"b": 1}, received=4, latencies_us=[3000] * 4, last_received_ns=3 * second),
    ]
    result = metrics.delivered(replies, members={"a": 4, "b": 3}, start_ns=second, send_seconds=2)
    assert result["messages_sent"] == 4
    assert result["expected"] == 3 * 4 + 1 * 3
    assert result["received"] == 14
    assert result["ratio"] == round(14 / 15, 4)
    assert result["deliveries_per_second"] == 7.0  # 14 over the 2 s from start to last
    assert result["latency_ms"]["p50"] == 1.0
    assert result["latency_ms"]["max"] == 3.0


def test_delivered_with_nothing_sent():
    result = metrics.delivered([chat_reply()], members={"a": 2}, start_ns=0, send_seconds=1)
    assert result["expected"] == result["received"] == 0
    assert result["ratio"] == result["deliveries_per_second"] == 0.0


def open_reply(**overrides):
    reply = {
        "attempted": 2,
        "opened": 2,
        "failed": 0,
        "failures": {},
        "connect_ms": [1.0, 2.0],
        "started_ns": 1_000_000_000,
        "finished_ns": 1_500_000_000,
    }
    return reply | overrides


def test_opened_adds_up_processes_and_counts_server_errors():
    replies = [
        open_reply(),
        open_reply(opened=1, failed=1, failures={"http 500": 1}, finished_ns=2_000_000_000),
    ]
    result = metrics.opened(replies)
    assert (result["attempted"], result["opened"], result["failed"]) == (4, 3, 1)
    assert result["http_500"] == 1
    assert result["seconds"] == 1.0
    assert result["per_second"] == 3.0


def test_per_connection_kb():
    assert metrics.per_connection_kb(baseline_kb=1000, loaded_kb=3000, connections=100) == 20.0
    assert metrics.per_connection_kb(baseline_kb=1000, loaded_kb=3000, connections=0) == 0.0
