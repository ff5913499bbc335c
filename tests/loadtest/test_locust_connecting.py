"""What a page socket's first frames mean, and the page's reconnect delays."""

import random

import pytest

from loadtest.locust.connecting import (
    FirstFrame,
    close_name,
    first_frame,
    full_jitter_delay,
    refused_for_good,
)

ERROR_LINE = (
    '<p id="socket-error" class="flash flash-error" hx-swap-oob="true" role="alert">'
    "Relay is busy at the moment. Retrying…</p>"
)
BELL = '<a id="bell" hx-swap-oob="true" href="/notifications/">0</a>'


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        (ERROR_LINE, FirstFrame.ERROR_LINE),
        (BELL, FirstFrame.ACCEPTED),
        (BELL + ERROR_LINE, FirstFrame.ACCEPTED),
        ('<div hx-swap-oob="beforeend:#messages"><article id="message-3">', FirstFrame.ACCEPTED),
    ],
)
def test_first_frame(text, meaning):
    assert first_frame(text) is meaning


@pytest.mark.parametrize(
    ("code", "name", "final"),
    [
        (4401, "4401 unauthenticated", True),
        (4403, "4403 forbidden", True),
        (4404, "4404 not found", True),
        (4409, "4409 too many sockets", True),
        (4429, "4429 too many attempts", False),
        (1011, "1011 unavailable", False),
        (1013, "1013 try again later", False),
        (4999, "4999", False),
    ],
)
def test_close_codes(code, name, final):
    assert close_name(code) == name
    assert refused_for_good(code) is final


class FixedRandom(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize(
    ("retries", "longest"), [(0, 1.0), (1, 2.0), (2, 4.0), (6, 64.0), (9, 64.0)]
)
def test_full_jitter_grows_like_the_pages_and_stops_at_64_s(retries, longest):
    assert full_jitter_delay(retries, FixedRandom(0.0)) == 0.0
    assert full_jitter_delay(retries, FixedRandom(0.5)) == longest / 2
