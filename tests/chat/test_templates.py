"""One partial, three uses: the page, the htmx response and the push show the same HTML."""

import re

from django.template.loader import render_to_string

from chat.models import Message


def article(html, message_id):
    match = re.search(rf'<article id="message-{message_id}".*?</article>', html, re.S)
    assert match, f"message {message_id} is not in the HTML"
    return match.group(0)


def test_message_partial_is_identical_in_page_older_and_push(client, ada, room, settings):
    settings.CHAT_PAGE_SIZE = 1
    first = Message.objects.create(room=room, author=ada, body="first\nline two")
    second = Message.objects.create(room=room, author=ada, body="second")
    client.force_login(ada)

    page = client.get("/rooms/general/").content.decode()
    older = client.get(f"/rooms/general/older/?before={second.id}").content.decode()
    push_first = render_to_string("chat/room.html#message-push", {"message": first})
    push_second = render_to_string("chat/room.html#message-push", {"message": second})

    assert article(page, second.id) == article(push_second, second.id)
    assert article(older, first.id) == article(push_first, first.id)
    assert "first<br>line two" in push_first


def test_composer_partials_render_alone(room):
    error = render_to_string("chat/room.html#composer-error", {"composer_error": "Nope"})
    assert (
        error
        == '<p id="composer-error" class="field-error" hx-swap-oob="true" role="alert">Nope</p>'
    )
    body = render_to_string(
        "chat/room.html#composer-body", {"room": room, "composer_body": "<kept>", "oob": True}
    )
    assert "&lt;kept&gt;</textarea>" in body
    assert 'hx-swap-oob="true"' in body
    # Only the page's box comes disabled, until its scripts run; one given back stays usable.
    assert "disabled" not in body
