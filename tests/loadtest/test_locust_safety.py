"""The kit sends load to this machine only, unless told otherwise on purpose."""

import pytest

from loadtest.locust.safety import (
    DEFAULT_RUN_TIME,
    UnsafeTarget,
    bounded_run_time,
    check_target,
    env_flag,
    http_origin,
    is_loopback,
    socket_url,
)


@pytest.mark.parametrize(
    ("host", "base"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("http://localhost", "http://localhost"),
        ("https://LOCALHOST:8443/some/path", "https://LOCALHOST:8443"),
        ("http://127.8.9.10:80", "http://127.8.9.10:80"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("ws://127.0.0.1:9000", "ws://127.0.0.1:9000"),
    ],
)
def test_this_machine_is_allowed(host, base):
    assert check_target(host, allow_remote=False) == base


@pytest.mark.parametrize(
    "host",
    [
        "http://10.0.0.5:8000",
        "http://192.168.1.10",
        "https://chat.example.com",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
        "http://[::ffff:10.0.0.1]:80",
        "http://0.0.0.0:8000",
    ],
)
def test_other_machines_are_refused_unless_allowed(host):
    with pytest.raises(UnsafeTarget, match="--allow-remote"):
        check_target(host, allow_remote=False)
    assert check_target(host, allow_remote=True) == host


@pytest.mark.parametrize("host", [None, "", "127.0.0.1:8000", "ftp://127.0.0.1", "http://"])
def test_a_target_must_be_a_url(host):
    with pytest.raises(UnsafeTarget):
        check_target(host, allow_remote=True)


def test_loopback_names():
    assert is_loopback("localhost.")
    assert is_loopback("[::1]")
    assert not is_loopback("example.com")


def test_env_flag_wants_an_explicit_yes():
    assert env_flag({"X": "1"}, "X")
    assert env_flag({"X": " True "}, "X")
    assert not env_flag({"X": "0"}, "X")
    assert not env_flag({"X": ""}, "X")
    assert not env_flag({}, "X")


def test_socket_url_and_origin_follow_the_scheme():
    assert socket_url("http://127.0.0.1:8000", "/ws/?room=a") == "ws://127.0.0.1:8000/ws/?room=a"
    assert socket_url("https://localhost", "/ws/") == "wss://localhost/ws/"
    assert http_origin("https://localhost:8443") == "https://localhost:8443"
    assert http_origin("wss://localhost") == "https://localhost"


def test_runs_are_bounded():
    assert bounded_run_time(None) == DEFAULT_RUN_TIME
    assert bounded_run_time(0) == DEFAULT_RUN_TIME
    assert bounded_run_time(600) == 600
