import re

import pytest
from django.urls import reverse

from chat.models import Message, Room


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
    assert ">Random</a>" in html
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


@pytest.mark.parametrize("query", ["", "?before=abc"])
def test_older_needs_a_cursor(signed_in, room, query):
    assert signed_in.get(f"/rooms/general/older/{query}").status_code == 400


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
