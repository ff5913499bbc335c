from datetime import UTC, datetime

import pytest

from pageviews import actions, logic
from pageviews.logic import Batch
from pageviews.models import MinuteViews, PageCounter

pytestmark = pytest.mark.django_db


def minute(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def test_a_batch_adds_to_the_counters_and_pushes_each_page_once(
    page_pushes, django_capture_on_commit_callbacks
):
    PageCounter.objects.create(path="/a/", views=10)

    with django_capture_on_commit_callbacks(execute=True):
        actions.pageviews_record(batch=Batch(views={"/a/": 3, "/b/": 2}, minutes={600: 4, 660: 1}))

    assert dict(PageCounter.objects.values_list("path", "views")) == {"/a/": 13, "/b/": 2}
    assert dict(MinuteViews.objects.values_list("minute", "views")) == {
        minute(600): 4,
        minute(660): 1,
    }
    assert sorted(group for group, _ in page_pushes.sent) == sorted(
        [logic.page_group_name("/a/"), logic.page_group_name("/b/")]
    )
    (html,) = page_pushes.to(logic.page_group_name("/a/"))
    assert '<span id="page-views" class="counter" hx-swap-oob="true">13 views</span>' in html


def test_batches_accumulate_per_minute(page_pushes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        actions.pageviews_record(batch=Batch(views={"/a/": 1}, minutes={600: 1}))
        actions.pageviews_record(batch=Batch(views={"/a/": 2}, minutes={600: 2}))

    assert MinuteViews.objects.get().views == 3
    assert PageCounter.objects.get().views == 3
    assert len(page_pushes.to(logic.page_group_name("/a/"))) == 2


def test_nothing_pushed_before_commit_or_for_an_empty_batch(
    page_pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        actions.pageviews_record(batch=Batch(views={"/a/": 1}, minutes={0: 1}))
    assert page_pushes.sent == []
    assert len(callbacks) == 1

    with django_capture_on_commit_callbacks(execute=True):
        actions.pageviews_record(batch=Batch(views={}, minutes={}))
    assert page_pushes.sent == []


def test_a_large_count_is_shown_with_separators(page_pushes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        actions.pageviews_record(batch=Batch(views={"/": 12345}, minutes={0: 12345}))
    assert "12,345 views" in page_pushes.to(logic.page_group_name("/"))[0]
