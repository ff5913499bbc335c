import pytest
from django.urls import reverse

from pageviews import logic


@pytest.mark.parametrize("path", ["/", "/rooms/general/", "/people/ada/", "/a" * 100])
def test_clean_page_path_accepts_paths_on_this_site(path):
    assert logic.clean_page_path(path) == path


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "path on this site"),
        (7, "path on this site"),
        ("rooms/general/", "path on this site"),
        ("https://elsewhere.example/", "path on this site"),
        ("//elsewhere.example/", "path on this site"),
        ("/" + "a" * 200, "at most 200"),
        ("/rooms/a b/", "spaces or control"),
        ("/rooms/\x00/", "spaces or control"),
    ],
)
def test_clean_page_path_refuses_anything_else(raw, message):
    with pytest.raises(logic.Invalid, match=message):
        logic.clean_page_path(raw)


def test_group_and_space_names_are_short_safe_and_distinct_per_page():
    group = logic.page_group_name("/rooms/" + "é" * 150 + "/")
    assert len(group) < 100
    assert group.replace(".", "").replace("_", "").isalnum()
    assert logic.page_group_name("/a/") != logic.page_group_name("/b/")
    assert logic.page_space("/a/").removeprefix("page.") == logic.page_digest("/a/")


@pytest.mark.parametrize(
    ("method", "status", "content_type", "htmx", "path", "page", "counts"),
    [
        ("GET", 200, "text/html; charset=utf-8", False, "/rooms/general/", "chat:room", True),
        ("GET", 200, "text/html", False, "/", "chat:index", True),
        ("GET", 200, "text/html", False, "/accounts/login/", "login", True),
        ("HEAD", 200, "text/html", False, "/", "chat:index", False),
        ("POST", 200, "text/html", False, "/rooms/new/", "chat:room_create", False),
        ("GET", 302, "text/html", False, "/", "chat:index", False),
        ("GET", 404, "text/html", False, "/nowhere/", "", False),
        ("GET", 200, "application/json", False, "/", "chat:index", False),
        ("GET", 200, "text/html", True, "/rooms/general/older/", "chat:older", False),
        ("GET", 200, "text/html", False, "/admin/", "admin:index", False),
        ("GET", 200, "text/plain", False, "/metrics", "metrics", False),
        ("GET", 200, "text/css", False, "/static/frontend/app.css", "", False),
        ("GET", 200, "text/html", False, "/rooms/" + "a" * 250 + "/", "chat:room", False),
        # Paths anyone can invent: each would be a counter row of its own.
        ("GET", 200, "text/html", False, "/accounts/reset/x/y/", "password_reset_confirm", False),
        ("GET", 200, "text/html", False, "/messages/123/", "chat:message", False),
        ("GET", 200, "text/html", False, "/invitations/9/", "chat:invitation", False),
    ],
)
def test_counted_means_a_full_page_of_a_counted_kind_that_loaded(
    method, status, content_type, htmx, path, page, counts
):
    assert (
        logic.counted(
            method=method,
            status=status,
            content_type=content_type,
            htmx=htmx,
            path=path,
            page=page,
        )
        is counts
    )


def test_every_counted_page_is_a_url_name_that_exists():
    arguments = {"chat:room": {"slug": "x"}, "profile": {"username": "x"}}
    for page in sorted(logic.COUNTED_PAGES):
        assert reverse(page, kwargs=arguments.get(page)).startswith("/")


@pytest.mark.parametrize(
    ("message", "parsed"),
    [
        (logic.hit_message("/a/", 120.5), ("/a/", 120.5)),
        ({"type": logic.HIT, "path": "/a/", "at": 60}, ("/a/", 60.0)),
        ({"type": logic.HIT, "path": "/a/"}, None),
        ({"type": logic.HIT, "path": "/a/", "at": "soon"}, None),
        ({"type": logic.HIT, "path": "/a/", "at": True}, None),
        ({"type": logic.HIT, "path": "/a/", "at": float("nan")}, None),
        ({"type": logic.HIT, "path": "elsewhere", "at": 1.0}, None),
        ({"type": logic.HIT, "at": 1.0}, None),
    ],
)
def test_parse_hit(message, parsed):
    assert logic.parse_hit(message) == parsed


@pytest.mark.parametrize(("at", "minute"), [(0.0, 0), (59.9, 0), (60.0, 60), (3725.2, 3720)])
def test_minute_of(at, minute):
    assert logic.minute_of(at) == minute


def test_a_tally_coalesces_hits_by_page_and_minute_and_starts_again_when_drained():
    tally = logic.Tally()
    for at in (0.0, 10.0, 61.0):
        tally.add("/a/", at)
    tally.add("/b/", 62.0)

    batch = tally.drain()

    assert batch.views == {"/a/": 3, "/b/": 1}
    assert batch.minutes == {0: 2, 60: 2}
    assert batch
    assert not tally.drain()


def test_a_restored_batch_is_drained_again_with_the_hits_that_came_after():
    tally = logic.Tally()
    tally.add("/a/", 0.0)
    refused = tally.drain()
    tally.add("/a/", 61.0)

    tally.restore(refused)

    batch = tally.drain()
    assert batch.views == {"/a/": 2}
    assert batch.minutes == {0: 1, 60: 1}


@pytest.mark.parametrize(
    ("now", "last", "every", "is_due"),
    [(10.0, None, 2.0, True), (10.0, 8.0, 2.0, True), (10.0, 8.5, 2.0, False)],
)
def test_due(now, last, every, is_due):
    assert logic.due(now=now, last=last, every=every) is is_due


def test_minute_series_fills_gaps_with_zero():
    series = logic.minute_series({60: 4, 180: 1, 600: 9}, end_minute=180, minutes=4)
    assert series == [(0, 0), (60, 4), (120, 0), (180, 1)]


@pytest.mark.parametrize(
    ("values", "top"),
    [
        ([], 1),
        ([0, 0], 1),
        ([1], 1),
        ([3], 5),
        ([7, 2], 10),
        ([11], 20),
        ([150], 200),
        ([500], 500),
    ],
)
def test_chart_top_is_a_round_number_at_or_above_the_largest(values, top):
    assert logic.chart_top(values) == top


def test_bars_fill_the_width_and_scale_to_the_top():
    bars = logic.bars([0, 5, 10], top=10, width=300, height=100)
    assert [bar.value for bar in bars] == [0, 5, 10]
    assert [bar.height for bar in bars] == [0.0, 50.0, 100.0]
    assert [bar.y for bar in bars] == [100.0, 50.0, 0.0]
    assert bars[0].x == 1.0
    assert bars[-1].x + bars[-1].width <= 300
    assert logic.bars([], top=1, width=300, height=100) == []


def test_line_points_pass_through_the_middle_of_each_slot():
    assert logic.line_points([0, 10], top=10, width=200, height=100) == "50.0,100.0 150.0,0.0"
    assert logic.line_points([], top=1, width=200, height=100) == ""
