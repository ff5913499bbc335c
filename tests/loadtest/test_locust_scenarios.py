"""Scenario presets become one plan that every process of a run follows."""

from dataclasses import replace

import pytest

from loadtest.locust.scenarios import (
    EVERYONE,
    Plan,
    Scenario,
    make_plan,
    read_users,
    room_name,
    room_slug,
    upcoming_storm,
    user_index,
    with_storm_times,
)


def test_every_preset_makes_a_valid_plan():
    for scenario in Scenario:
        plan = make_plan(scenario.value, {})
        assert plan.scenario is scenario
        assert scenario.value in plan.describe()


def test_presets_differ_where_they_should():
    assert not make_plan("idle", {}).sends(0)
    fanout = make_plan("fanout", {})
    assert [fanout.sends(index) for index in range(3)] == [True, True, False]
    assert fanout.all_rooms() == ["load-test"]
    chatty = make_plan("chatty", {})
    assert chatty.senders == EVERYONE
    assert chatty.sends(999)
    assert chatty.all_rooms() == [f"load-room-{n:02d}" for n in range(1, 11)]
    assert make_plan("reconnect", {}).storm_every > 0
    assert make_plan("announce", {}).announce_every > 0


def test_overrides_win_and_none_means_the_preset():
    plan = make_plan("chatty", {"rooms": 3, "send_rate": None, "unknown": 1}, run="r1")
    assert plan.rooms == 3
    assert plan.send_rate == 0.2
    assert plan.run == "r1"


def test_chatty_spreads_users_evenly_over_rooms():
    plan = make_plan("chatty", {"rooms": 4})
    rooms = [plan.room_for(index) for index in range(8)]
    assert rooms == [room_slug("load-room", n) for n in (1, 2, 3, 4, 1, 2, 3, 4)]
    assert make_plan("fanout", {"room": "lobby"}).room_for(5) == "lobby"


@pytest.mark.parametrize(
    ("scenario", "overrides", "complaint"),
    [
        ("nope", {}, "Unknown scenario"),
        ("fanout", {"send_rate": -1.0}, "send_rate"),
        ("fanout", {"settle": float("nan")}, "settle"),
        ("chatty", {"rooms": 0}, "rooms"),
        ("fanout", {"senders": -2}, "senders"),
        ("reconnect", {"storm_every": 4.0, "settle": 3.0}, "twice settle"),
        ("storm", {"storms": -1}, "storms must be"),
    ],
)
def test_bad_settings_are_refused(scenario, overrides, complaint):
    with pytest.raises(ValueError, match=complaint):
        make_plan(scenario, overrides)


def test_plan_travels_as_a_dict():
    plan = make_plan("reconnect", {"no_such": 1, "resume": False}, run="abc")
    assert Plan.from_dict(plan.as_dict()) == plan
    assert Plan.from_dict({**plan.as_dict(), "added_later": 1}) == plan


def test_users_interleave_across_processes_without_overlap():
    slots = 3
    taken = [user_index(slot, slots, nth) for slot in range(slots) for nth in range(5)]
    assert sorted(taken) == list(range(15))
    assert user_index(0, 0, 4) == 4  # a single process


@pytest.mark.parametrize(
    ("now", "overrides", "storm"),
    [
        # Periodic: the wall clock's multiples, numbered from the epoch, the same everywhere.
        (100.0, {"storm_every": 15.0}, (7, 105.0)),
        (105.0, {"storm_every": 15.0}, (8, 120.0)),
        (104.9, {"storm_every": 15.0}, (7, 105.0)),
        (100.0, {"storm_every": 0.0}, None),
        # A limited number, counted from the run's start.
        (1000.0, {"storm_every": 20.0, "storms": 1, "storm_origin": 1000.0}, (1, 1020.0)),
        (1019.9, {"storm_every": 20.0, "storms": 1, "storm_origin": 1000.0}, (1, 1020.0)),
        (1020.0, {"storm_every": 20.0, "storms": 1, "storm_origin": 1000.0}, None),
        (1020.0, {"storm_every": 20.0, "storms": 2, "storm_origin": 1000.0}, (2, 1040.0)),
        # None later than one period before the end of the run.
        (100.0, {"storm_every": 15.0, "storms_until": 105.0}, (7, 105.0)),
        (100.0, {"storm_every": 15.0, "storms_until": 104.9}, None),
    ],
)
def test_storms_fall_on_the_same_instants_everywhere(now, overrides, storm):
    plan = replace(make_plan("reconnect", {}), **overrides)
    assert upcoming_storm(now, plan) == storm


def test_storms_start_by_one_period_before_the_end_of_the_run():
    storm = with_storm_times(make_plan("storm", {}), now=1000.0, run_time=30.0)
    assert (storm.storm_origin, storm.storms_until) == (1000.0, 1015.0)
    assert upcoming_storm(1001.0, storm) == (1, 1015.0)
    short = with_storm_times(make_plan("storm", {}), now=1000.0, run_time=29.0)
    assert upcoming_storm(1001.0, short) is None  # too short to see it recover: no storm
    # 10,000 users at 50 a second are all in 200 s after the start: the storm waits for them.
    ramped = with_storm_times(make_plan("storm", {}), now=1000.0, run_time=240.0, ramp=200.0)
    assert upcoming_storm(1001.0, ramped) == (1, 1215.0)
    periodic = with_storm_times(make_plan("reconnect", {}), now=1000.0, run_time=60.0)
    assert (periodic.storm_origin, periodic.storms_until) == (0.0, 1045.0)
    assert with_storm_times(make_plan("fanout", {}), now=1000.0, run_time=60.0).storms_until == 0


def test_the_storm_preset_is_one_storm_at_once_in_a_quiet_room():
    plan = make_plan("storm", {})
    assert (plan.storms, plan.storm_jitter, plan.senders) == (1, 0.0, 1)
    assert plan.storm_every >= 2 * plan.settle
    assert "one storm 15 s after every user started (±0 s)" in plan.describe()
    assert "3 times" in make_plan("reconnect", {"storms": 3}).describe()


def test_room_names_slug_back_to_their_slug():
    from django.utils.text import slugify

    for slug in ("load-room-07", "load-test", "x-1"):
        assert slugify(room_name(slug)) == slug


KEY_A = "a" * 32
KEY_B = "B1" * 16


def test_read_users(tmp_path):
    path = tmp_path / "users.csv"
    path.write_text(f"load-00000,{KEY_A}\nload-00001,{KEY_B}\n\n")
    assert read_users(str(path)) == [("load-00000", KEY_A), ("load-00001", KEY_B)]
    path.write_text("")
    with pytest.raises(ValueError, match="loadtest_users"):
        read_users(str(path))


def test_read_users_strips_crlf_and_spaces(tmp_path):
    path = tmp_path / "users.csv"
    path.write_bytes(f"load-00000,{KEY_A}\r\n load-00001 , {KEY_B} \r\n".encode())
    assert read_users(str(path)) == [("load-00000", KEY_A), ("load-00001", KEY_B)]


@pytest.mark.parametrize(
    "text",
    [
        f"load-00000;{KEY_A}\n",  # not comma-separated
        f"load-00000,{KEY_A},extra\n",
        f",{KEY_A}\n",
        "load-00000,not a session key\n",
        f"load-00000,{KEY_A}\nload-00001\n",
    ],
)
def test_read_users_refuses_a_malformed_line(tmp_path, text):
    path = tmp_path / "users.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=r"line \d+ is not username,sessionid"):
        read_users(str(path))


def test_read_users_refuses_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="Cannot read the users CSV"):
        read_users(str(tmp_path / "nope.csv"))


@pytest.mark.parametrize(
    ("scenario", "overrides", "sends"),
    [
        ("idle", {}, False),
        ("fanout", {}, True),
        ("fanout", {"senders": 0}, False),
        ("fanout", {"send_rate": 0.0}, False),
        ("announce", {}, True),
        ("chatty", {}, True),
    ],
)
def test_a_plan_knows_whether_it_sends_messages(scenario, overrides, sends):
    assert make_plan(scenario, overrides).sends_messages() is sends
