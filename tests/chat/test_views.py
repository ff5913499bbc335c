import re

import pytest
from django.urls import reverse

from chat.models import Message, ReadCursor, Room
from chat.queries import rooms as room_queries


@pytest.fixture
def signed_in(client, ada):
    client.force_login(ada)
    return client


@pytest.mark.parametrize("url", ["/", "/rooms/general/", "/rooms/general/older/?before=1"])
def test_chat_pages_require_sign_in(client, room, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_room_page_renders_history_composer_and_socket(signed_in, ada, room, other_room):
    Message.objects.create(room=room, author=ada, body="<b>bold</b> https://example.com")
    response = signed_in.get("/rooms/general/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'ws-connect="/ws/?room=general&amp;path=%2Frooms%2Fgeneral%2F"' in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert '<a href="https://example.com" rel="nofollow">' in html
    assert 'id="composer"' in html
    assert "ws-send" in html
    assert re.search(r'name="client_id" value="[0-9a-f-]{36}"', html)
    assert 'aria-current="page"' in html  # the sidebar marks this room
    assert (
        '<span aria-hidden="true">#</span>'
        '<span class="room-name" dir="auto">Random</span><span id="unread-' in html
    )
    assert 'role="log"' in html
    assert "This is the beginning of #General." in html


def test_room_page_is_protected_by_csp_with_nonce(signed_in, room):
    response = signed_in.get("/rooms/general/")
    policy = response["Content-Security-Policy"]
    match = re.search(r"'nonce-([^']+)'", policy)
    assert match, policy
    nonce = match.group(1)
    assert f'nonce="{nonce}"' in response.content.decode()
    assert "'unsafe-inline'" not in policy


def test_unknown_room_is_404(signed_in):
    assert signed_in.get("/rooms/nope/").status_code == 404


def test_older_messages_partial(signed_in, ada, room, settings):
    settings.CHAT_PAGE_SIZE = 2
    messages = [Message.objects.create(room=room, author=ada, body=f"m{i}") for i in range(5)]
    page = signed_in.get("/rooms/general/").content.decode()
    assert f"?before={messages[3].id}" in page
    assert f'id="message-{messages[2].id}"' not in page

    response = signed_in.get(
        f"/rooms/general/older/?before={messages[3].id}", HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "<html" not in html  # just the fragment
    assert f'id="message-{messages[1].id}"' in html
    assert f'id="message-{messages[2].id}"' in html
    assert f"?before={messages[1].id}" in html
    assert html.index(f"message-{messages[1].id}") < html.index(f"message-{messages[2].id}")


# 2**63 fits no 64-bit id column: the database would fail on it, so it is refused first.
@pytest.mark.parametrize("query", ["", "?before=abc", "?before=-1", f"?before={2**63}"])
def test_older_needs_a_cursor(signed_in, room, query):
    response = signed_in.get(f"/rooms/general/older/{query}")
    assert response.status_code == 400
    assert response.content.decode() == "“before” must be a message id."


def test_room_create_with_htmx_redirects_client(signed_in):
    response = signed_in.post("/rooms/new/", {"name": "Design reviews"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/rooms/design-reviews/"
    assert Room.objects.get().name == "Design reviews"


def test_room_create_without_htmx_redirects(signed_in):
    response = signed_in.post("/rooms/new/", {"name": "Design"})
    assert response.status_code == 302
    assert response["Location"] == "/rooms/design/"


def test_room_create_error_rerenders_the_form(signed_in, room):
    response = signed_in.post("/rooms/new/", {"name": "general"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 422
    assert html.lstrip().startswith('<form id="room-form"')
    assert "A room called “general” already exists." in html
    assert 'value="general"' in html
    assert Room.objects.count() == 1


def test_a_room_name_that_turns_text_around_is_refused(signed_in, room):
    response = signed_in.post("/rooms/new/", {"name": "\u202elareneG"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "change the direction of text" in response.content.decode()
    assert Room.objects.count() == 1


def test_room_create_requires_post_and_csrf(ada, room):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(ada)
    assert client.get("/rooms/new/").status_code == 405
    assert client.post("/rooms/new/", {"name": "Sneaky"}).status_code == 403
    assert Room.objects.count() == 1


def test_htmx_posts_need_the_csrf_token_the_page_puts_in_their_headers(ada, room):
    import re

    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(ada)
    page = client.get("/rooms/general/").content.decode()
    token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page)
    assert token, "the page gives htmx no CSRF header"
    htmx = {"HX-Request": "true"}

    refused = client.post("/rooms/new/", {"name": "Without"}, headers=htmx)
    assert refused.status_code == 403
    accepted = client.post(
        "/rooms/new/", {"name": "With"}, headers={**htmx, "X-CSRFToken": token.group(1)}
    )
    assert accepted.status_code == 200
    assert accepted["HX-Redirect"] == "/rooms/with/"
    assert list(Room.objects.values_list("name", flat=True).order_by("name")) == [
        "General",
        "With",
    ]


def say(room, author, count, body="m{i}"):
    return [
        Message.objects.create(room=room, author=author, body=body.format(i=i))
        for i in range(count)
    ]


@pytest.mark.parametrize(
    "url", ["/search/", "/search/?q=tea", "/rooms/general/newer/?after=1&until=2"]
)
def test_new_pages_require_sign_in(client, room, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_sidebar_shows_unread_counts_from_the_viewers_cursor(
    signed_in, ada, grace, room, other_room
):
    theirs = say(other_room, grace, 3)
    ReadCursor.objects.create(user=ada, room=other_room, last_read_id=theirs[0].id)
    html = signed_in.get("/").content.decode()
    assert (
        f'<span id="unread-{other_room.id}" class="unread" data-read="{theirs[0].id}" '
        f'data-seen="{theirs[2].id}" data-count="2">'
        '<span class="unread-mention" hidden>@<span class="visually-hidden">mentioned, </span>'
        '</span><span class="unread-count">2</span>'
        '<span class="visually-hidden"> unread</span></span>'
    ) in html
    assert f'<span id="unread-{room.id}" class="unread" data-read="0" data-seen="0" ' in html
    # The page's socket keeps them current.
    assert 'ws-connect="/ws/?page=rooms&amp;path=%2F"' in html


def test_room_page_marks_the_first_unread_with_a_divider(signed_in, ada, grace, room):
    read = say(room, grace, 2)
    ReadCursor.objects.create(user=ada, room=room, last_read_id=read[-1].id)
    say(room, ada, 1)
    unread = say(room, grace, 3)
    html = signed_in.get("/rooms/general/").content.decode()
    divider = html.index('id="unread-divider"')
    assert html.index(f'id="message-{read[-1].id}"') < divider
    assert divider < html.index(f'id="message-{unread[0].id}"')
    assert "3 new messages since you last read" in html
    assert f'href="#message-{unread[0].id}">Jump to first unread</a>' in html
    assert f'data-room-id="{room.id}"' in html


def test_nothing_unread_no_divider(signed_in, ada, grace, room):
    last = say(room, grace, 2)[-1]
    ReadCursor.objects.create(user=ada, room=room, last_read_id=last.id)
    html = signed_in.get("/rooms/general/").content.decode()
    assert "unread-divider" not in html
    assert "Jump to first unread" not in html


def test_jump_to_a_first_unread_that_is_not_loaded(signed_in, ada, grace, room, settings):
    settings.CHAT_PAGE_SIZE = 4
    read = say(room, grace, 2)
    ReadCursor.objects.create(user=ada, room=room, last_read_id=read[-1].id)
    unread = say(room, grace, 10)
    html = signed_in.get("/rooms/general/").content.decode()
    assert "unread-divider" not in html  # too far back to be on the page
    first = unread[0].id
    jump = f"/rooms/general/?around={first}&amp;unread_from={first}#message-{first}"
    assert f'href="{jump}">Jump to first unread</a>' in html
    # "Load older" carries it, so the divider appears when that page arrives.
    assert f"?before={unread[6].id}&amp;unread_from={unread[0].id}" in html
    older = signed_in.get(
        f"/rooms/general/older/?before={unread[2].id}&unread_from={unread[0].id}"
    ).content.decode()
    assert older.index(f'id="message-{read[-1].id}"') < older.index('id="unread-divider"')
    assert older.index('id="unread-divider"') < older.index(f'id="message-{unread[0].id}"')


def test_room_page_around_a_message(signed_in, ada, room, settings):
    settings.CHAT_PAGE_SIZE = 4
    messages = say(room, ada, 12)
    anchor = messages[5]
    html = signed_in.get(f"/rooms/general/?around={anchor.id}").content.decode()
    shown = [m for m in messages if f'id="message-{m.id}"' in html]
    assert shown == messages[3:7]
    assert f'<article id="message-{anchor.id}" class="message is-anchor"' in html
    assert f'data-anchor="message-{anchor.id}"' in html
    # Older messages load above it as usual; the newer ones up to the newest below it; the
    # socket resumes after the newest.
    assert f"/rooms/general/older/?before={messages[3].id}" in html
    assert f"/rooms/general/newer/?after={messages[6].id}&amp;until={messages[-1].id}" in html
    assert f'data-after="{messages[-1].id}"' in html


def test_around_the_latest_messages_is_the_usual_page(signed_in, ada, room, settings):
    settings.CHAT_PAGE_SIZE = 4
    messages = say(room, ada, 6)
    html = signed_in.get(f"/rooms/general/?around={messages[-1].id}").content.decode()
    assert "load-newer" not in html
    # The live log starts right after the history: no gap for "Load newer" to fill.
    assert 'aria-label="New messages"></div>' in html


def test_newer_fills_the_gap_a_page_at_a_time(signed_in, ada, room, settings):
    settings.CHAT_PAGE_SIZE = 2
    messages = say(room, ada, 7)
    response = signed_in.get(
        f"/rooms/general/newer/?after={messages[1].id}&until={messages[5].id}",
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "<html" not in html
    assert [m for m in messages if f'id="message-{m.id}"' in html] == messages[2:4]
    assert f"newer/?after={messages[3].id}&amp;until={messages[5].id}" in html

    last = signed_in.get(
        f"/rooms/general/newer/?after={messages[3].id}&until={messages[5].id}"
    ).content.decode()
    assert [m for m in messages if f'id="message-{m.id}"' in last] == messages[4:6]
    assert "load-newer" not in last


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("", "“after” must be a message id."),
        ("?after=1", "“until” must be a message id."),
        ("?after=x&until=2", "“after” must be a message id."),
        ("?after=1&until=-2", "“until” must be a message id."),
        (f"?after=1&until={2**63}", "“until” must be a message id."),
    ],
)
def test_newer_needs_a_range(signed_in, room, query, error):
    response = signed_in.get(f"/rooms/general/newer/{query}")
    assert response.status_code == 400
    assert response.content.decode() == error


@pytest.mark.parametrize("around", ["abc", "0", "-4", str(2**63)])
def test_around_must_be_a_message_id(signed_in, room, around):
    response = signed_in.get(f"/rooms/general/?around={around}")
    assert response.status_code == 400
    assert response.content.decode() == "“around” must be a message id."


def test_around_a_message_of_another_room_shows_the_latest_and_says_so(
    signed_in, ada, room, other_room
):
    elsewhere = say(other_room, ada, 1)[0]
    here = say(room, ada, 1)[0]
    response = signed_in.get(f"/rooms/general/?around={elsewhere.id}")
    html = response.content.decode()
    assert response.status_code == 200
    assert "That message is no longer here; these are the latest." in html
    assert f'id="message-{here.id}"' in html
    assert f'id="message-{elsewhere.id}"' not in html


def test_rooms_the_viewer_cannot_read_are_404(signed_in, ada, room, monkeypatch):

    monkeypatch.setattr(room_queries, "rooms_readable_by", lambda *, user: Room.objects.none())
    message = say(room, ada, 1)[0]
    assert signed_in.get("/rooms/general/").status_code == 404
    assert signed_in.get(f"/rooms/general/?around={message.id}").status_code == 404
    assert signed_in.get(f"/rooms/general/older/?before={message.id}").status_code == 404
    assert signed_in.get(f"/rooms/general/newer/?after=1&until={message.id}").status_code == 404


def test_search_page_without_a_query_invites_one(signed_in, room):
    response = signed_in.get("/search/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Search the messages of every room you can read." in html
    assert 'role="search"' in html
    assert 'hx-get="/search/"' in html  # results as you type on this page


def test_search_lists_matches_linking_to_the_message_in_context(
    signed_in, ada, grace, room, other_room
):
    [hit] = say(other_room, grace, 1, body="Anyone for <b>green</b> tea?")
    say(room, grace, 1, body="coffee")
    response = signed_in.get("/search/?q=tea")
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 message matches “tea”." in html
    assert f'href="/rooms/random/?around={hit.id}#message-{hit.id}"' in html
    assert "Anyone for &lt;b&gt;green&lt;/b&gt; <mark>tea</mark>?" in html
    assert "coffee" not in html
    assert 'value="tea"' in html  # the box keeps the query


def test_search_with_htmx_returns_only_the_results(signed_in, ada, room):
    say(room, ada, 1, body="tea time")
    response = signed_in.get("/search/?q=tea", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<div id="search-results"')
    assert "<mark>tea</mark> time" in html


def test_search_with_no_match_says_so(signed_in, room):
    html = signed_in.get("/search/?q=nothing").content.decode()
    assert "No messages match “nothing”." in html


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("", "Type something to search for."),
        ("%20%20", "Type something to search for."),
        ("x" * 201, "Searches are at most 200 characters; that one is 201."),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_searches_get_a_clear_error(signed_in, room, query, error, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = signed_in.get(f"/search/?q={query}", **headers)
    assert response.status_code == 422
    assert f'<p id="search-error" class="field-error" role="alert">{error}</p>' in (
        response.content.decode()
    )


def test_search_goes_through_rooms_readable_by(
    signed_in, ada, grace, room, other_room, monkeypatch
):

    say(room, grace, 1, body="tea here")
    say(other_room, grace, 1, body="tea in a room ada cannot read")
    seen_users = []

    def only_general(*, user):
        seen_users.append(user)
        return Room.objects.filter(pk=room.pk)

    monkeypatch.setattr(room_queries, "rooms_readable_by", only_general)
    html = signed_in.get("/search/?q=tea").content.decode()
    assert "tea here" in html.replace("<mark>tea</mark>", "tea")
    assert "cannot read" not in html
    assert ada in seen_users


@pytest.mark.parametrize(
    "path",
    [
        "/rooms/general/?unread_from=soon",
        "/rooms/general/older/?before=5&unread_from=soon",
        "/rooms/general/newer/?after=1&until=5&unread_from=soon",
    ],
)
def test_unread_from_must_be_a_message_id(signed_in, room, path):
    response = signed_in.get(path)
    assert response.status_code == 400
    assert response.content.decode() == "“unread_from” must be a message id."
