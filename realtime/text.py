"""Text no field may hold: NUL characters, unpaired surrogates, and bytes that are not UTF-8.

PostgreSQL refuses NUL in text (psycopg raises DataError) and an unpaired surrogate cannot be
encoded as UTF-8, so either would fail deep inside a query or a render. These pure rules let
one place refuse them where a request enters (realtime.middleware.BadTextMiddleware), with a
message that says which field was wrong."""

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from urllib.parse import unquote_to_bytes

NUL = "\x00"
# NUL, and surrogates: in a str any surrogate is an unpaired one (UTF-8 and JSON's escaped
# pairs both decode to a single code point beyond the BMP).
BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def text_refusal(value: str, *, where: str) -> str | None:
    """Why `value` cannot be accepted as text, or None if it can."""
    if BAD_TEXT.search(value) is None:
        return None
    if NUL in value:
        return f"{where} contains a NUL character (\\0), which text here cannot hold."
    return f"{where} contains an unpaired surrogate, which is not valid Unicode text."


# Letters and symbols that draw nothing, the usual stand-ins for a blank name or message: the
# Hangul fillers, the blank braille pattern, the combining grapheme joiner, the variation
# selectors, the Mongolian free variation selectors and the Khmer inherent vowels.
BLANK_CHARACTERS = frozenset(
    "\u115f\u1160\u3164\uffa0\u2800\u034f\u180b\u180c\u180d\u17b4\u17b5"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)


def shows_nothing(value: str) -> bool:
    """Whether `value` is blank on the page: only whitespace, controls, format characters
    (zero-width spaces and joiners, direction marks and overrides) and BLANK_CHARACTERS."""
    return all(
        ch.isspace() or ch in BLANK_CHARACTERS or unicodedata.category(ch) in ("Cc", "Cf")
        for ch in value
    )


def is_bad_text(value: str) -> bool:
    return BAD_TEXT.search(value) is not None


def bytes_refusal(raw: bytes, *, where: str) -> str | None:
    """Like text_refusal, for bytes that must be UTF-8 (an encoded surrogate is not)."""
    try:
        value = raw.decode("utf-8")
    except UnicodeDecodeError:
        return f"{where} is not valid UTF-8 text (an encoded unpaired surrogate is not)."
    return text_refusal(value, where=where)


def form_pairs(encoded: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The (name, value) pairs of a query string or url-encoded form, percent-decoded."""
    for pair in encoded.split(b"&"):
        if not pair:
            continue
        name, _, value = pair.partition(b"=")
        yield (
            unquote_to_bytes(name.replace(b"+", b" ")),
            unquote_to_bytes(value.replace(b"+", b" ")),
        )


def form_refusal(encoded: bytes, *, where: str) -> str | None:
    """The first bad name or value in a query string or url-encoded form body."""
    for name, value in form_pairs(encoded):
        refusal = bytes_refusal(name, where=f"A {where} field name")
        if refusal:
            return refusal
        label = name.decode("utf-8")
        refusal = bytes_refusal(value, where=f"The {where} field “{label}”")
        if refusal:
            return refusal
    return None


def fields_refusal(fields: Iterable[tuple[str, str]], *, where: str) -> str | None:
    """The first bad name or value among already decoded fields."""
    for name, value in fields:
        refusal = text_refusal(name, where=f"A {where} field name") or text_refusal(
            value, where=f"The {where} field “{name}”"
        )
        if refusal:
            return refusal
    return None


def json_strings(value: object) -> Iterator[str]:
    """Every string in a decoded JSON document, keys included, without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def json_refusal(raw: bytes, *, where: str) -> str | None:
    """The first bad string in a JSON body. A body that is not JSON is left to its reader."""
    refusal = bytes_refusal(raw, where=where)
    if refusal:
        return refusal
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    for value in json_strings(document):
        refusal = text_refusal(value, where=f"A string in the {where}")
        if refusal:
            return refusal
    return None
