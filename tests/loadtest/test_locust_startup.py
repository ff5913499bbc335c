"""The kit against the real app when it is started wrong: each mistake is refused before any
user connects, with the cause named (the checks that need no site: test_locust_preflight).
Each start is Locust in its own process."""

import csv
from pathlib import Path

import pytest

from tests.loadtest.test_locust_failures import site_with
from tests.loadtest.test_locust_run import locust, pytestmark, stopped_at_the_end

__all__ = ["pytestmark"]


@pytest.fixture(scope="module")
def startup_site(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("startup")
    with site_with(tmp_path, 5) as url:
        yield url, tmp_path


def refused_start(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> str:
    process = locust("--headless", "-t", "3s", *args, cwd=tmp_path, env=env)
    with stopped_at_the_end(process):
        output, _ = process.communicate(timeout=60)
    assert process.returncode != 0, output
    assert "loadtest: refusing to start" in output, output
    return output


def test_refuses_to_start_without_a_target(tmp_path):
    output = refused_start(tmp_path, "-u", "1")
    assert "No target: pass --host" in output


def test_refuses_to_start_without_a_readable_users_csv(startup_site, tmp_path):
    url, _ = startup_site
    output = refused_start(tmp_path, "--host", url, "--users-csv", str(tmp_path / "nope.csv"))
    assert "Cannot read the users CSV" in output


def test_refuses_to_start_with_a_malformed_users_csv(startup_site, tmp_path):
    url, _ = startup_site
    (tmp_path / "users.csv").write_text("load-00000;abcdef\n")
    output = refused_start(tmp_path, "--host", url, "--users-csv", str(tmp_path / "users.csv"))
    assert "line 1 is not username,sessionid" in output


def test_refuses_more_users_than_sessions(startup_site):
    url, site_dir = startup_site
    output = refused_start(
        site_dir, "--host", url, "-u", "6", "--users-csv", str(site_dir / "users.csv")
    )
    assert "6 users but only 5 sessions" in output
    assert "--share-sessions" in output


def test_refuses_sessions_that_do_not_sign_in(startup_site, tmp_path):
    url, _ = startup_site
    (tmp_path / "users.csv").write_text(f"load-00000,{'x' * 32}\n")
    output = refused_start(tmp_path, "--host", url, "--users-csv", str(tmp_path / "users.csv"))
    assert "The session of load-00000" in output
    assert "does not sign in" in output


def test_refuses_a_room_that_does_not_exist(startup_site):
    url, site_dir = startup_site
    output = refused_start(
        site_dir,
        *("--host", url, "--users-csv", str(site_dir / "users.csv"), "--room", "no-such-rom"),
    )
    assert "Room 'no-such-rom' does not exist" in output
    assert "--create-room" in output


def test_refuses_a_staff_session_that_cannot_post(startup_site):
    url, site_dir = startup_site
    rows = list(csv.reader((site_dir / "users.csv").read_text().splitlines()))
    not_staff = rows[1][1]
    output = refused_start(
        site_dir,
        *("--host", url, "--users-csv", str(site_dir / "users.csv")),
        *("--scenario", "announce", "--staff-session", not_staff),
    )
    assert "The staff session cannot post announcements" in output


def test_a_staff_session_with_a_trailing_carriage_return_signs_in(startup_site):
    # `head -1 users.csv | cut -d, -f2` of a CRLF file keeps the \r.
    url, site_dir = startup_site
    rows = list(csv.reader((site_dir / "users.csv").read_text().splitlines()))
    staff = rows[0][1] + "\r"
    process = locust(
        "--headless",
        *("-u", "2", "-r", "2", "-t", "4s", "--host", url),
        *("--users-csv", str(site_dir / "users.csv"), "--settle", "1"),
        *("--scenario", "announce", "--announce-every", "1", "--staff-session", staff),
        cwd=site_dir,
    )
    with stopped_at_the_end(process):
        output, _ = process.communicate(timeout=60)
    assert "refusing to start" not in output, output
    assert "announcer_failures<=0" in output
    assert process.returncode == 0, output


def test_refuses_announcements_on_another_machine_without_the_flag(tmp_path):
    # 192.0.2.0/24 is reserved for documentation; the check comes before any request.
    (tmp_path / "users.csv").write_text(f"load-00000,{'x' * 32}\n")
    output = refused_start(
        tmp_path,
        *("--host", "http://192.0.2.1:8000", "--allow-remote", "--scenario", "announce"),
        *("--users-csv", str(tmp_path / "users.csv")),
    )
    assert "would notify every active user" in output
    assert "--allow-announcements" in output
