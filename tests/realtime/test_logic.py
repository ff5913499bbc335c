import pytest

from realtime import logic


def test_presence_keys_share_one_prefix():
    assert logic.presence_key("room.7") == "relay:presence:room.7"


@pytest.mark.parametrize(
    ("member", "user_id"),
    [
        (logic.presence_member(7, "a1b2"), 7),
        ("12:x", 12),
        ("12", None),
        ("12:", None),
        ("ada:x", None),
        (":x", None),
        ("-1:x", None),
    ],
)
def test_member_user_id(member, user_id):
    assert logic.member_user_id(member) == user_id


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ([], []),
        (["3:a", "3:b"], [3]),  # two tabs of one person
        (["9:a", "3:b", "3:c", "10:d"], [3, 9, 10]),
        (["3:a", "junk", "4:"], [3]),
    ],
)
def test_people_counts_each_person_once(members, expected):
    assert logic.people(members) == expected


@pytest.mark.parametrize(
    ("entries", "now", "live"),
    [
        ({}, 100.0, []),
        ({"1:a": 110.0, "2:b": 99.0}, 100.0, ["1:a"]),
        ({"1:a": 100.0}, 100.0, []),  # an entry expiring now is gone
        ({"2:b": 100.5, "1:a": 130.0}, 100.0, ["1:a", "2:b"]),
    ],
)
def test_live_members(entries, now, live):
    assert logic.live_members(entries, now=now) == live


@pytest.mark.parametrize(("ttl", "key_ttl"), [(30.0, 90), (0.2, 1), (0.5, 2), (10.0, 30)])
def test_a_space_nobody_refreshes_expires_after_a_few_lifetimes(ttl, key_ttl):
    assert logic.key_ttl(ttl) == key_ttl
    assert logic.expires_at(100.0, ttl=ttl) == 100.0 + ttl


@pytest.mark.parametrize(
    ("now", "last", "interval", "when"),
    [
        (100.0, None, 1.0, 100.0),  # never announced: at once
        (100.0, 98.0, 1.0, 100.0),  # long enough ago: at once
        (100.0, 99.6, 1.0, 100.6),  # too soon: one interval after the last
        (100.0, 100.0, 2.0, 102.0),
    ],
)
def test_next_announcement_is_at_most_one_per_interval(now, last, interval, when):
    assert logic.next_announcement(now=now, last=last, interval=interval) == pytest.approx(when)


@pytest.mark.parametrize(
    ("people", "interval"), [(0, 1.0), (2000, 1.0), (4000, 2.0), (10_000, 5.0)]
)
def test_a_big_space_is_announced_less_often_to_tell_at_most_reach_people_a_second(
    people, interval
):
    assert logic.announce_interval(people=people, every=1.0, reach=2000) == interval
