from bench import goals


def result(target, **scenarios):
    return {"target": target, "scenarios": {k: {"ok": True, **v} for k, v in scenarios.items()}}


def test_checks_compare_the_project_with_its_peers():
    rows = goals.checks(
        [
            result(
                "app",
                room={"ratio": 1.0},
                idle={"connections": {"per_second": 150.0}},
                **{"room-max": {"deliveries_per_second": 400.0}},
                handshakes={
                    "connections": {"http_500": 0, "failed": 0, "attempted": 1000},
                    "alive_after": 400,
                },
            ),
            result("bare", **{"room-max": {"deliveries_per_second": 1000.0}}),
            result("tutorial", idle={"connections": {"per_second": 100.0}}),
        ]
    )
    verdicts = {goal: verdict for goal, _, verdict in rows}
    assert verdicts["Big room: every delivery arrives (ratio 1.0)"] == "**met**"
    assert verdicts["Big room: deliveries/s ≥ 0.5x bare Daphne (room-max)"] == "**missed**"
    assert verdicts["Handshakes: ≥ 2x the tutorial's connections/s (idle fill)"] == "**missed**"
    # Answered, but most of the burst refused (1013): not every socket opened.
    assert verdicts["Handshakes: no 500s (nor other failures) at 1,000 concurrent"] == "**missed**"
    assert verdicts["Idle: ≤ 25 KB per connection"] == "not measured"


def room_p99(target, p99, run="2026-11-29T12:00:00Z"):
    return {**result(target, room={"latency_ms": {"p99": p99}}), "run": run}


def uvicorn_check(documents):
    (row,) = [row for row in goals.checks(documents) if "uvicorn" in row[0]]
    return row[1:]


def test_the_uvicorn_room_p99_is_judged_against_raw_websockets_in_the_same_run():
    met = [room_p99("app-uvicorn", 30.0), room_p99("websockets", 12.0)]
    assert uvicorn_check(met) == ["30 vs 12 = 2.50x", "**met**"]
    missed = [room_p99("app-uvicorn", 40.0), room_p99("websockets", 12.0)]
    assert uvicorn_check(missed) == ["40 vs 12 = 3.33x", "**missed**"]
    apart = [room_p99("app-uvicorn", 30.0), room_p99("websockets", 12.0, run="earlier")]
    assert uvicorn_check(apart) == ["30 vs 12 = 2.50x, but from different runs", "not measured"]
    assert uvicorn_check([room_p99("app", 30.0), room_p99("websockets", 12.0)])[1] == (
        "not measured"
    )


def posting_check(**posting):
    (row,) = [row for row in goals.checks([result("app", posting=posting)]) if "Posting" in row[0]]
    return row[1:]


def test_posting_capacity_counts_only_acknowledged_messages():
    met = posting_check(messages_per_second=1200.0, acks=12000, messages_sent=12000)
    assert met == ["1,200 messages/s, 12,000 of 12,000 acknowledged", "**met**"]
    # Fast, but some sends were never answered: not durable.
    unanswered = posting_check(messages_per_second=1200.0, acks=11990, messages_sent=12000)
    assert unanswered[1] == "**missed**"
    assert posting_check(messages_per_second=800.0, acks=8000, messages_sent=8000)[1] == (
        "**missed**"
    )
    (absent,) = [row for row in goals.checks([result("app")]) if "Posting" in row[0]]
    assert absent[2] == "not measured"
