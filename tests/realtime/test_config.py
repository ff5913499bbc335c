import pytest
from channels.layers import InMemoryChannelLayer
from django.core.exceptions import ImproperlyConfigured

from realtime import config


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        ("on", True),
        ("0", False),
        ("off", False),
        ("", False),
    ],
)
def test_env_bool(raw, expected):
    assert config.env_bool({"X": raw}, "X", default=not expected) is expected


def test_env_bool_default_and_garbage():
    assert config.env_bool({}, "X", default=True) is True
    with pytest.raises(ImproperlyConfigured, match="X must be one of"):
        config.env_bool({"X": "maybe"}, "X", default=False)


def test_env_list():
    assert config.env_list({"H": "a.com, b.com,,"}, "H", default=[]) == ["a.com", "b.com"]
    assert config.env_list({}, "H", default=["x"]) == ["x"]


def test_env_int_below_its_minimum_is_refused():
    assert config.env_int({"N": "1"}, "N", default=5, minimum=1) == 1
    for raw in ("0", "-3"):
        with pytest.raises(ImproperlyConfigured, match="N must be at least 1"):
            config.env_int({"N": raw}, "N", default=5, minimum=1)


def test_env_int():
    assert config.env_int({"N": "12"}, "N", default=1) == 12
    assert config.env_int({"N": " "}, "N", default=1) == 1
    with pytest.raises(ImproperlyConfigured, match="N must be an integer"):
        config.env_int({"N": "twelve"}, "N", default=1)


def test_secret_key_required_in_production():
    with pytest.raises(ImproperlyConfigured, match="refuses to start"):
        config.secret_key({}, debug=False)


@pytest.mark.parametrize("weak", ["short", "django-insecure-" + "x" * 40])
def test_secret_key_weak_refused_in_production(weak):
    with pytest.raises(ImproperlyConfigured, match="too weak"):
        config.secret_key({"SECRET_KEY": weak}, debug=False)


def test_secret_key_strong_and_debug():
    strong = "k" * 50
    assert config.secret_key({"SECRET_KEY": strong}, debug=False) == strong
    assert config.secret_key({}, debug=True).startswith("django-insecure")


def test_channel_layer_defaults_to_memory():
    layer = config.channel_layer({})
    assert layer["BACKEND"] == "channels.layers.InMemoryChannelLayer"


def test_channel_layer_redis_shards_with_safe_timeouts():
    layer = config.channel_layer(
        {"REDIS_URL": "redis://r1:6379/0, redis://r2:6379/0", "REDIS_MAX_CONNECTIONS": "500"}
    )
    assert layer["BACKEND"] == "realtime.layers.RedisChannelLayer"
    hosts = layer["CONFIG"]["hosts"]
    assert [h["address"] for h in hosts] == ["redis://r1:6379/0", "redis://r2:6379/0"]
    # Longer than channels-redis' 5 s blocking reads, or idle sockets get killed.
    assert all(h["socket_timeout"] > 5 for h in hosts)
    assert all(h["max_connections"] == 500 for h in hosts)
    assert layer["CONFIG"]["capacity"] == 1000
    # Each process's hub channel carries all its group messages: sized on its own.
    assert layer["CONFIG"]["channel_capacity"] == {"hub.*": 10_000}


def test_the_hub_channel_capacity_is_set_apart_from_the_others():
    layer = config.channel_layer(
        {"REDIS_URL": "redis://r1:6379/0", "CHANNEL_CAPACITY": "50", "HUB_CHANNEL_CAPACITY": "7"}
    )
    assert (layer["CONFIG"]["capacity"], layer["CONFIG"]["channel_capacity"]) == (
        50,
        {"hub.*": 7},
    )


def test_the_in_memory_layer_has_one_capacity_that_it_can_use():
    layer = config.channel_layer({"CHANNEL_CAPACITY": "50"})
    assert layer["CONFIG"] == {"capacity": 50}
    assert InMemoryChannelLayer(**layer["CONFIG"]).get_capacity("hub.inmemory!x") == 50


def test_pageview_hits_travel_on_the_first_host_only_when_the_layer_is_sharded():
    layer = config.pageviews_layer({"REDIS_URL": "redis://r1:6379/0,redis://r2:6379/0"})
    assert layer is not None
    assert [h["address"] for h in layer["CONFIG"]["hosts"]] == ["redis://r1:6379/0"]
    assert layer["CONFIG"]["capacity"] == 1000


@pytest.mark.parametrize("env", [{}, {"REDIS_URL": "redis://r1:6379/0"}])
def test_pageview_hits_share_the_default_layer_unless_it_is_sharded(env):
    assert config.pageviews_layer(env) is None


@pytest.mark.parametrize("bad", ["http://r1", " , "])
def test_redis_hosts_refuses_bad_urls(bad):
    with pytest.raises(ImproperlyConfigured):
        config.redis_hosts(bad, max_connections=10)


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, 2.5), ({"X": ""}, 2.5), ({"X": "0.25"}, 0.25), ({"X": "30"}, 30.0)],
)
def test_env_seconds(env, expected):
    assert config.env_seconds(env, "X", default=2.5) == expected


@pytest.mark.parametrize("raw", ["soon", "0", "-1", "inf", "nan"])
def test_env_seconds_refuses_what_is_not_a_positive_duration(raw):
    with pytest.raises(ImproperlyConfigured, match="X must be"):
        config.env_seconds({"X": raw}, "X", default=1.0)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ""),
        ({"REDIS_URL": "redis://a:6379/0"}, "redis://a:6379/0"),
        ({"REDIS_URL": " redis://a:6379/0 , redis://b:6379/0"}, "redis://a:6379/0"),
    ],
)
def test_presence_lives_on_the_first_redis_host(env, expected):
    assert config.first_redis_url(env) == expected
