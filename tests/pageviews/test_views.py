import re
from datetime import UTC, datetime

import pytest

from chat.models import Membership, Message, Room
from pageviews import events, logic
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
    assert 'ws-connect="/ws/?page=rooms&amp;path=%2F"' in html


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


def test_top_pages_leave_out_private_rooms_and_direct_conversations(client, ada, make_user, room):
    linus = make_user("linus")
    founders = Room.objects.create(
        name="Founders", slug="founders", kind=Room.Kind.PRIVATE, created_by=ada
    )
    Membership.objects.create(room=founders, user=ada)
    direct = Room.objects.create(name="ada+linus", slug="dm-ada-linus", kind=Room.Kind.DIRECT)
    Membership.objects.bulk_create(
        [Membership(room=direct, user=ada), Membership(room=direct, user=linus)]
    )
    PageCounter.objects.create(path="/rooms/founders/", views=900)
    PageCounter.objects.create(path="/rooms/dm-ada-linus/", views=800)
    PageCounter.objects.create(path="/rooms/general/", views=50)
    PageCounter.objects.create(path="/", views=80)
    listed = ['<a href="/">/</a> <span class="count">80</span>']
    listed.append('<a href="/rooms/general/">/rooms/general/</a> <span class="count">50</span>')

    # A non-member, a member and the pushed list all see the same: no private page at all.
    for viewer in (linus, ada):
        client.force_login(viewer)
        html = client.get("/stats/").content.decode()
        assert top_pages(html) == listed
    pushed = events.stats_html(connections=0, people=0)
    assert top_pages(pushed) == listed
    assert "founders" not in pushed
    assert "dm-ada-linus" not in pushed


def test_top_pages_leave_out_rooms_that_no_longer_exist(signed_in, ada, room):
    # A private room removed by a demo reset leaves its counter behind.
    founders = Room.objects.create(
        name="Founders", slug="founders", kind=Room.Kind.PRIVATE, created_by=ada
    )
    PageCounter.objects.create(path="/rooms/founders/", views=900)
    founders.delete()
    PageCounter.objects.create(path="/rooms/general/", views=50)

    html = signed_in.get("/stats/").content.decode()
    assert top_pages(html) == [
        '<a href="/rooms/general/">/rooms/general/</a> <span class="count">50</span>'
    ]


def top_pages(html: str) -> list[str]:
    listing = html[html.index('<ol class="top-pages">') :].partition("</ol>")[0]
    return re.findall(r"<li>(.*?)</li>", listing)
