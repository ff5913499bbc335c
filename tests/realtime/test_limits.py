import pytest

from realtime.limits import BucketMap, OpenCounts, TokenBucket, attempt_key


def test_token_bucket_allows_a_burst_then_the_rate():
    bucket = TokenBucket.full(rate=2, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.25) is False  # half a token back
    assert bucket.take(0.5) is True  # one whole token
    assert bucket.take(0.5) is False
    assert bucket.take(10.0) is True
    assert bucket.tokens == 2  # refills to the burst, never beyond


def test_token_bucket_ignores_a_clock_going_backwards():
    bucket = TokenBucket.full(rate=1, burst=1, now=5.0)
    assert bucket.take(5.0)
    assert not bucket.take(4.0)


def test_bucket_map_keeps_one_bucket_per_key():
    buckets = BucketMap(capacity=10)
    assert [buckets.take("a", rate=1, burst=2, now=0.0) for _ in range(3)] == [True, True, False]
    assert buckets.take("b", rate=1, burst=2, now=0.0)  # someone else is unaffected
    assert buckets.take("a", rate=1, burst=2, now=1.0)  # refilled
    assert len(buckets) == 2


def test_bucket_map_never_holds_more_than_its_capacity():
    buckets = BucketMap(capacity=3)
    for n in range(1000):
        buckets.take(f"address:10.0.{n // 256}.{n % 256}", rate=1, burst=1, now=0.0)
    assert len(buckets) == 3


def test_bucket_map_forgets_the_least_recently_used_key_first():
    buckets = BucketMap(capacity=2)
    buckets.take("old", rate=1, burst=1, now=0.0)
    buckets.take("busy", rate=1, burst=1, now=0.0)
    assert not buckets.take("old", rate=1, burst=1, now=0.0)  # "old" is now the recent one
    buckets.take("new", rate=1, burst=1, now=0.0)  # evicts "busy"
    assert not buckets.take("old", rate=1, burst=1, now=0.0)  # still remembered, still empty
    assert buckets.take("busy", rate=1, burst=1, now=0.0)  # forgotten: a fresh bucket


def test_bucket_map_needs_room():
    with pytest.raises(ValueError, match="at least one"):
        BucketMap(capacity=0)


def test_open_counts_cap_each_user():
    counts = OpenCounts()
    assert [counts.open(7, cap=2) for _ in range(3)] == [True, True, False]
    assert counts.open(8, cap=2)  # another user has their own allowance
    counts.close(7)
    assert counts[7] == 1
    assert counts.open(7, cap=2)


def test_open_counts_forget_users_without_sockets():
    counts = OpenCounts()
    counts.open(7, cap=5)
    counts.open(7, cap=5)
    counts.close(7)
    counts.close(7)
    counts.close(7)  # one close too many changes nothing
    assert len(counts) == 0
    assert counts[7] == 0


@pytest.mark.parametrize(
    ("user_id", "client", "key"),
    [
        (7, ("203.0.113.5", 5000), "user:7"),
        (None, ("203.0.113.5", 5000), "address:203.0.113.5"),
        (None, ["2001:db8::1", 443], "address:2001:db8::1"),
        (None, None, "address:unknown"),
    ],
)
def test_attempt_key_is_the_account_or_else_the_address(user_id, client, key):
    assert attempt_key(user_id=user_id, client=client) == key


def test_an_action_spends_its_cost_from_the_bucket():
    buckets = BucketMap(capacity=4)
    assert buckets.take("ada:resume", rate=1, burst=5, now=0, cost=3)
    assert not buckets.take("ada:resume", rate=1, burst=5, now=0, cost=3)
    assert buckets.take("ada:resume", rate=1, burst=5, now=0, cost=2)
    assert buckets.take("ada:resume", rate=1, burst=5, now=3, cost=3)
