import pytest

from realtime.text import (
    bytes_refusal,
    fields_refusal,
    form_refusal,
    json_refusal,
    shows_nothing,
    text_refusal,
)

HOLDS_NUL = "contains a NUL character (\\0), which text here cannot hold."
NOT_UTF8 = "is not valid UTF-8 text (an encoded unpaired surrogate is not)."
HOLDS_SURROGATE = "contains an unpaired surrogate, which is not valid Unicode text."


@pytest.mark.parametrize(
    ("value", "refusal"),
    [
        ("plain words, émoji 🎉 and RTL עברית", None),
        ("a\x00b", "The field " + HOLDS_NUL),
        ("\ud800", "The field " + HOLDS_SURROGATE),
        ("x\udfffy", "The field " + HOLDS_SURROGATE),
    ],
)
def test_text_refusal(value, refusal):
    assert text_refusal(value, where="The field") == refusal


@pytest.mark.parametrize(
    ("raw", "refusal"),
    [
        ("café".encode(), None),
        (b"\xed\xa0\x80", "It " + NOT_UTF8),
        (b"\xff", "It " + NOT_UTF8),
        (b"a\x00", "It " + HOLDS_NUL),
    ],
)
def test_bytes_refusal(raw, refusal):
    assert bytes_refusal(raw, where="It") == refusal


@pytest.mark.parametrize(
    ("encoded", "refusal"),
    [
        (b"", None),
        (b"q=hello+world&page=2&empty=&flag", None),
        (b"q=caf%C3%A9%20%F0%9F%8E%89", None),
        (b"q=%00", "The form field “q” " + HOLDS_NUL),
        (b"ok=1&name=a%00b", "The form field “name” " + HOLDS_NUL),
        (b"q=%ED%A0%80", "The form field “q” " + NOT_UTF8),
        (b"%00=1", "A form field name " + HOLDS_NUL),
    ],
)
def test_form_refusal(encoded, refusal):
    assert form_refusal(encoded, where="form") == refusal


def test_fields_refusal_names_the_field():
    assert fields_refusal([("caption", "ok"), ("name", "x")], where="form") is None
    assert fields_refusal([("caption", "a\x00")], where="form") == (
        "The form field “caption” " + HOLDS_NUL
    )


@pytest.mark.parametrize(
    ("raw", "refusal"),
    [
        (b'{"body": "hi", "n": [1, {"x": "y"}]}', None),
        (b'{"body": "a\\u0000"}', "A string in the JSON body " + HOLDS_NUL),
        (b'{"a": ["\\ud800"]}', "A string in the JSON body " + HOLDS_SURROGATE),
        (b'{"\\udc00": 1}', "A string in the JSON body " + HOLDS_SURROGATE),
        (b'{"pair": "\\ud83c\\udf89"}', None),  # a surrogate pair is one character: fine
        (b"not json", None),  # left to whoever reads it
        (b"[" * 100_000, None),  # too deep for json: left to its reader, no RecursionError here
    ],
)
def test_json_refusal(raw, refusal):
    assert json_refusal(raw, where="JSON body") == refusal


@pytest.mark.parametrize(
    ("value", "blank"),
    [
        ("", True),
        (" \n\t", True),
        ("\u200b\u200c\u200d\u2060\ufeff\u00ad", True),
        ("\u202e\u2066\u2069\u200e\u200f", True),
        ("\u3164\u115f\u1160\uffa0\u2800\u034f", True),
        ("\x01\x7f", True),
        ("\ufe0f" * 5 + "\U000e0100\u180b\u17b4", True),
        ("\u2764\ufe0f", False),  # a heart with its emoji selector
        ("a", False),
        ("\u200b.", False),
        ("\u05d0", False),
        ("\U0001f44d", False),
    ],
)
def test_shows_nothing(value, blank):
    assert shows_nothing(value) is blank
