import re

import pytest
from django.template import Engine
from django.template.loader import render_to_string

from chat.models import Message
from chat.reactions.models import Reaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def message(ada, room):
    return Message.objects.create(room=room, author=ada, body="hello")


def react(message, *pairs):
    for user, emoji in pairs:
        Reaction.objects.create(message=message, user=user, emoji=emoji)


def test_the_bar_names_each_person_once_per_emoji_in_their_own_element(ada, grace, linus, message):
    react(message, (grace, "👍"), (ada, "🎉"), (linus, "👍"))

    html = render_to_string("chat/reactions.html#bar", {"message": message})

    chips = re.findall(r'<button type="button" class="reaction".*?</button>', html, re.DOTALL)
    assert len(chips) == 2
    thumbs = next(chip for chip in chips if "👍" in chip)
    assert re.findall(r'data-user="(\d+)"', thumbs) == [str(grace.id), str(linus.id)]
    # The bar names the action and the message for every button in it (htmx merges hx-vals
    # with the ancestors'); a button adds its emoji.
    assert f"""hx-vals='{{"action": "reactions.toggle", "message": {message.id}}}'>""" in html
    assert """hx-vals='{"emoji": "👍"}'""" in thumbs
    # The count is the page's (a CSS counter of the people it shows), never a number here.
    assert re.search(r"<span\s+class=\"reaction-count\" aria-hidden=\"true\"></span>", thumbs)


def test_the_bar_renders_in_one_query_with_the_names(
    ada, grace, linus, message, django_assert_num_queries
):
    react(message, (grace, "👍"), (linus, "😂"))
    message = Message.objects.get(id=message.id)
    with django_assert_num_queries(1):
        render_to_string("chat/reactions.html#bar", {"message": message})


def test_the_picker_offers_exactly_the_fixed_set(message):
    html = render_to_string("chat/reactions.html#bar", {"message": message})
    offered = re.findall(
        r'class="reaction-choice"[^>]*"emoji": "([^"]+)"[^>]*'
        r'aria-label="React with ([^"]+)" title="([^"]+)">([^<]+)</button>',
        html,
    )
    assert offered == [(emoji, name, name, emoji) for emoji, name in Reaction.Emoji.choices]


def test_the_picker_holds_nothing_of_the_message(message):
    """It is rendered once for every message: a message's value in it would be the first's."""
    choices = {"choices": Reaction.Emoji.choices}
    alone = render_to_string("chat/reactions.html#picker", choices)
    with_message = render_to_string("chat/reactions.html#picker", {**choices, "message": message})
    assert alone == with_message
    bar = render_to_string("chat/reactions.html#bar", {"message": message})
    assert bar.endswith(alone + "</div>")


def test_the_fixed_set_is_listed_only_in_the_model():
    source = Engine.get_default().get_template("chat/reactions.html").source
    markup = re.sub(r"{% comment %}.*?{% endcomment %}", "", source, flags=re.DOTALL)
    assert [emoji for emoji in Reaction.Emoji.values if emoji in markup] == []


def test_a_message_shows_its_bar_but_a_deleted_one_does_not(message):
    html = render_to_string("chat/room.html#message", {"message": message})
    assert f'<div id="reactions-{message.id}" class="reactions"\n' in html
    message.deleted_at = message.created_at
    html = render_to_string("chat/room.html#message", {"message": message})
    assert "reactions-" not in html


def test_the_blocked_style_hides_a_blocked_persons_reactions_from_names_and_counts():
    rules = render_to_string("accounts/blocked.html#rules", {"blocked_author_ids": [3, 7]})
    assert '.reactor[data-user="3"]{display:none}' in rules
    assert '.reactor[data-user="7"]{display:none}' in rules
    # An emoji only blocked people picked is not shown at all.
    assert (
        '.reaction:not(:has(.reactor:not([data-user="3"],[data-user="7"]))){display:none}' in rules
    )
    assert render_to_string("accounts/blocked.html#rules", {"blocked_author_ids": []}) == ""


def test_the_room_page_marks_the_viewers_own_reactions(client, grace, room):
    client.force_login(grace)
    page = client.get(room.get_absolute_url()).content.decode()
    assert f'.reaction:has(.reactor[data-user="{grace.id}"]){{' in page
