from datetime import UTC, datetime

import pytest

from chat.models import Message
from pageviews import logic
from pageviews.models import MinuteViews, PageCounter

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, ada):
    client.force_login(ada)
    return client


def test_every_page_shows_its_views(client, signed_in, room):
    PageCounter.objects.create(path="/rooms/general/", views=4321)
    html = signed_in.get("/rooms/general/").content.decode()
    assert '<span id="page-views" class="counter">4,321 views</span>' in html
    # "here now" is filled in by the page's socket once it opens.
    assert '<span id="here-now" class="counter" hidden>' in html


def test_a_page_never_counted_shows_none_and_anonymous_pages_show_theirs_too(client):
    PageCounter.objects.create(path="/accounts/login/", views=1)
    html = client.get("/accounts/login/").content.decode()
    assert "1 view</span>" in html
    assert 'id="here-now"' not in html  # no socket for anonymous visitors
    assert "0 views</span>" in client.get("/accounts/signup/").content.decode()


def test_the_socket_is_told_which_page_it_is_on(signed_in, room):
    html = signed_in.get("/").content.decode()
    assert 'ws-connect="/ws/?path=%2F"' in html


def test_the_stats_page_needs_an_account(client):
    response = client.get("/stats/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_stats_page_shows_the_last_half_hour_and_the_top_pages(signed_in, ada, room):
    now = datetime.now(tz=UTC)
    this_minute = logic.minute_of(now.timestamp())
    MinuteViews.objects.create(minute=datetime.fromtimestamp(this_minute, tz=UTC), views=7)
    Message.objects.create(room=room, author=ada, body="hi")
    PageCounter.objects.create(path="/rooms/general/", views=50)
    PageCounter.objects.create(path="/", views=80)

    response = signed_in.get("/stats/")
    html = response.content.decode()

    assert response.status_code == 200
    assert 'ws-connect="/ws/?page=stats&amp;path=%2Fstats%2F"' in html
    assert '<dd id="stat-views">7</dd>' in html
    assert '<dd id="stat-messages">1</dd>' in html
    assert html.count('class="chart-bar"') == 30
    assert '<polyline class="chart-line"' in html
    top = html[html.index('class="top-pages"') :]
    assert top.index(">/</a>") < top.index(">/rooms/general/</a>")


def test_the_stats_page_refuses_other_methods(signed_in):
    assert signed_in.post("/stats/").status_code == 405
