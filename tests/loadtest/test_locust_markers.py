"""The kit reads the app's real pushed HTML: markers, message ids, acks, announcements."""

import uuid

from django.template.loader import render_to_string

from chat import events
from chat.events import missed_html
from chat.models import Message
from loadtest.locust.markers import Kind, Marker, classify, find_markers, make_body
from notifications import events as notification_events
from notifications.models import Announcement

MARKER = Marker(run="ab12cd34", sender="u17", seq=42, sent_at=1_790_000_000.123456)


def test_marker_text_round_trips_to_the_microsecond():
    assert MARKER.text() == "ltmark:ab12cd34:u17:42:1790000000123456"
    assert find_markers(f"<p>{MARKER.text()}</p>") == [MARKER]


def test_body_is_padded_to_the_size_asked_and_keeps_the_marker():
    assert find_markers(make_body(MARKER)) == [MARKER]
    padded = make_body(MARKER, size=500)
    assert len(padded) == 500
    assert find_markers(padded) == [MARKER]
    assert make_body(MARKER, size=5) == make_body(MARKER)  # never cut short


def test_finds_nothing_in_ordinary_text():
    assert find_markers("ltmark: a chat about markers, ltmark:x:y:z:1") == []


def test_a_pushed_message_gives_its_id_and_marker(ada, room, pushes):
    # Links, mentions and escaping around the marker must leave it readable.
    body = f"@ada see https://example.com <b>{make_body(MARKER)}</b> & more"
    message = Message.objects.create(room=room, author=ada, body=body)
    events.message_posted(message)
    [html] = [html for _, html in pushes.sent if "beforeend:#messages" in html]

    frame = classify(html)
    assert frame.kind is Kind.MESSAGE
    assert frame.messages == ((message.id, MARKER),)


def test_a_replay_of_missed_messages_lists_each(ada, room):
    plain = Message.objects.create(room=room, author=ada, body="no marker here")
    marked = Message.objects.create(room=room, author=ada, body=make_body(MARKER))

    frame = classify(missed_html(room, after_id=0))
    assert frame.kind is Kind.MESSAGE
    assert frame.messages == ((plain.id, None), (marked.id, MARKER))


def test_a_refreshed_conversation_is_told_apart(ada, room, settings):
    settings.CHAT_RESUME_LIMIT = 1
    Message.objects.create(room=room, author=ada, body="one")
    last = Message.objects.create(room=room, author=ada, body=make_body(MARKER))

    frame = classify(missed_html(room, after_id=0))
    assert frame.kind is Kind.REFRESHED
    assert frame.messages[-1] == (last.id, MARKER)


def test_acknowledgement_and_rejection(room):
    client_id = str(uuid.uuid4())
    ack = render_to_string("chat/room.html#composer-error", {"answered": client_id})
    assert classify(ack).kind is Kind.ACK
    assert classify(ack).answered == client_id

    rejected = render_to_string(
        "chat/room.html#composer-error",
        {"answered": client_id, "composer_error": "Too long.", "room": room},
    )
    assert classify(rejected).kind is Kind.REJECTED
    assert classify(rejected).answered == client_id


def test_an_announcement_push_carries_its_marker(ada, pushes):
    announcement = Announcement.objects.create(author=ada, body=make_body(MARKER))
    notification_events.announcement_published(announcement)
    banners = [html for _, html in pushes.sent if 'id="announcement-banner"' in html]

    frame = classify(banners[0])
    assert frame.kind is Kind.ANNOUNCEMENT
    assert frame.markers == (MARKER,)


def test_the_bell_is_recognised(ada):
    assert classify(notification_events.bell_html(ada.pk)).kind is Kind.BELL
    assert classify("<p>something else</p>").kind is Kind.OTHER
