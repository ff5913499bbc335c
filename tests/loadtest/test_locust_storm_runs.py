"""The reconnect-storm figure against the real app: one storm of the `storm` preset on a
Daphne that lets the sockets back in, and on one that refuses them (the figure's thresholds
must fail). Each run is a few seconds of Locust in its own process."""

from tests.loadtest.test_locust_failures import run, site_with, thresholds_rows
from tests.loadtest.test_locust_run import pytestmark

__all__ = ["pytestmark"]

STORM_TARGET = ("--threshold", "storm_reopen_max<=15000", "--threshold", "storm_unopened<=0")


def storm_run(tmp_path, url, *extra):
    # 6 sockets, all started 1 s in; the one storm falls 4 s later, sending stops at 10 s.
    return run(
        tmp_path,
        *("--host", url, "-u", "6", "-r", "6", "-t", "10s", "--scenario", "storm"),
        *("--storm-every", "4", "--send-rate", "2", "--settle", "1.5", *STORM_TARGET, *extra),
    )


def test_one_storm_every_socket_back_with_its_time(tmp_path):
    with site_with(tmp_path, 6) as url:
        code, output, summary = storm_run(tmp_path, url)
    storms = summary["storms"]
    (row,) = storms["storms"]
    assert row["storm"] == 1, output
    assert (row["dropped"], row["reopened"], row["unopened"], row["gave_up"]) == (6, 6, 0, 0)
    assert row["drops_spread"] < 1000  # no jitter: they dropped together
    # Accepted again after the drop, the page's full-jitter delay (< 1 s) and a connect,
    # before sending stopped (5 s after the storm).
    assert 0 < row["reopen_p50"] <= row["reopen_p99"] <= row["reopen_max"] < 5000, output
    assert storms["worst"] == row
    assert summary["metrics"]["storm_reopen_max"] == row["reopen_max"]
    assert summary["metrics"]["storm_unopened"] == 0
    assert summary["person"]["ratio"] == 1.0, output  # what was sent meanwhile: all held
    assert "Reconnect storms: 1; 6 of 6 dropped sockets open again" in output
    assert code == 0, output
    assert "Thresholds: all passed" in output


def test_a_server_that_refuses_the_reconnects_fails_the_storm_thresholds(tmp_path):
    # Each account may open one socket, then one more every 1,000 s: after the storm every
    # reconnect is refused (4429, retried like the page), so no socket comes back.
    with site_with(tmp_path, 6, SOCKET_CONNECT_BURST="1", SOCKET_CONNECT_RATE="0.001") as url:
        code, output, summary = storm_run(tmp_path, url)
    (row,) = summary["storms"]["storms"]
    assert (row["dropped"], row["reopened"], row["unopened"], row["gave_up"]) == (6, 0, 6, 0)
    assert row["failed_attempts"] >= 6, output
    assert (row["reopen_p50"], row["reopen_p99"], row["reopen_max"]) == (None, None, None)
    assert code == 1, output
    rows = thresholds_rows(tmp_path)
    assert rows["storm_reopen_max"] == {
        "metric": "storm_reopen_max",
        "criterion": "storm_reopen_max<=15000",
        "value": "",
        "passed": "0",
    }
    assert rows["storm_unopened"]["value"] == "6"
    assert rows["storm_unopened"]["passed"] == "0"
    assert "FAIL  storm_reopen_max<=15000" in output
    assert "FAIL  storm_unopened<=0" in output
