"""What a page socket's first frames mean, and how long to wait before trying again.

The server refuses a socket after accepting it, so that the page can learn why: it accepts,
sends the error line (`<p id="socket-error" ...>`, for the refusals a person can act on) and
closes with a code. A handshake is therefore no proof of a connection. A socket counts as
connected when a frame other than the error line arrives (the server sends every part's
catch-up as soon as it has accepted, starting with the notification bell), or when it stays
open for `REFUSAL_WINDOW` seconds after an error line.

Plain Python, no Locust: the tests use it directly.
"""

import random
from enum import StrEnum

REFUSAL_WINDOW = 1.0  # seconds an error line may precede the refusal's close frame

# Refused for good: retrying cannot help this user (the page stops too).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_MANY_SOCKETS = 4409
FINAL_CODES = frozenset(
    {CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND, CLOSE_TOO_MANY_SOCKETS}
)

CLOSE_NAMES = {
    1000: "normal",
    1001: "going away",
    1005: "no status",
    1006: "abnormal",
    1011: "unavailable",
    1012: "service restart",
    1013: "try again later",
    4400: "bad request",
    4401: "unauthenticated",
    4403: "forbidden",
    4404: "not found",
    4409: "too many sockets",
    4429: "too many attempts",
}

# htmx's ws extension with wsReconnectDelay "full-jitter" (frontend/base.html): a uniform
# delay in [0, 2**min(retries, 6)) seconds, the retry count reset once a socket opens.
JITTER_MAX_EXPONENT = 6


class FirstFrame(StrEnum):
    ERROR_LINE = "error line"  # the refusal's explanation, or an error on an open socket
    ACCEPTED = "accepted"  # anything else: only an accepted socket is sent it


def first_frame(text: str) -> FirstFrame:
    if 'id="socket-error"' in text and 'id="bell"' not in text:
        return FirstFrame.ERROR_LINE
    return FirstFrame.ACCEPTED


def close_name(code: int) -> str:
    """`4409 too many sockets`: how a close code is named in the request statistics."""
    name = CLOSE_NAMES.get(code)
    return f"{code} {name}" if name else str(code)


def refused_for_good(code: int) -> bool:
    return code in FINAL_CODES


def full_jitter_delay(retries: int, rng: random.Random) -> float:
    """Seconds before reconnect attempt number `retries` + 1 (0 after a socket was open)."""
    return rng.random() * float(2 ** min(max(retries, 0), JITTER_MAX_EXPONENT))
