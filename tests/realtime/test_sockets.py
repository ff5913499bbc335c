import pytest

from realtime.sockets import decode_frame, socket_params, socket_url


def test_socket_url_round_trip():
    url = socket_url(room="design reviews")
    assert url == "/ws/?room=design+reviews"
    assert socket_params(url.split("?", 1)[1].encode()) == {"room": "design reviews"}
    assert socket_url() == "/ws/"


def test_decode_frame_accepts_an_action():
    assert decode_frame('{"action": "chat.send", "body": "hi"}') == {
        "action": "chat.send",
        "body": "hi",
    }


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (None, "Binary frames are not supported."),
        ("{not json", "That frame was not valid JSON."),
        ("[1, 2]", "A frame must be a JSON object."),
        ('"just a string"', "A frame must be a JSON object."),
        ('{"body": "no action"}', "A frame needs an “action” field."),
        ('{"action": 5}', "A frame needs an “action” field."),
    ],
)
def test_decode_frame_errors(text, error):
    assert decode_frame(text) == error
