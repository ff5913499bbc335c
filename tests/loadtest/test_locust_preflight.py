"""Start-up checks that need no site (the others run against one in test_locust_startup)."""

import pytest

from loadtest.locust.preflight import StartupError, check_announcements, check_user_count
from loadtest.locust.scenarios import Scenario, make_plan

ROWS = [("load-00000", "a" * 32), ("load-00001", "b" * 32)]


def test_more_users_than_sessions_is_refused_unless_shared():
    check_user_count(ROWS, 2, path="users.csv", share=False)
    check_user_count(ROWS, None, path="users.csv", share=False)
    check_user_count(ROWS, 3, path="users.csv", share=True)
    with pytest.raises(StartupError, match=r"3 users but only 2 sessions in users\.csv"):
        check_user_count(ROWS, 3, path="users.csv", share=False)


@pytest.mark.parametrize(
    ("url", "allowed", "refused"),
    [
        ("http://127.0.0.1:8000", False, False),
        ("http://localhost:8000", False, False),
        ("https://chat.example.com", False, True),
        ("https://chat.example.com", True, False),
    ],
)
def test_announcements_on_another_machine_need_the_flag(url, allowed, refused):
    plan = make_plan(Scenario.ANNOUNCE.value, {})
    if refused:
        with pytest.raises(StartupError, match="--allow-announcements"):
            check_announcements(plan, url, allowed=allowed)
    else:
        check_announcements(plan, url, allowed=allowed)


def test_a_plan_without_announcements_needs_no_flag():
    check_announcements(make_plan(Scenario.FANOUT.value, {}), "https://x.example", allowed=False)
