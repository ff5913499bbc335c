"""What the load test writes into a message, and what it reads back out of a pushed frame.

Every message or announcement the kit sends carries a marker, `ltmark:RUN:SENDER:SEQ:MICROS`:
the run's id, the sending user, that user's sequence number and the wall-clock send time in
microseconds. A receiver finds the marker in the rendered HTML and knows who sent what, when.
The marker is plain letters, digits and colons, so HTML escaping, links and mentions leave it
alone.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

MARKER_PREFIX = "ltmark"
ANNOUNCER = "announcer"

_MARKER_RE = re.compile(
    rf"{MARKER_PREFIX}:(?P<run>[0-9a-z]+):(?P<sender>[0-9A-Za-z_-]+):(?P<seq>\d+):(?P<micros>\d+)"
)
_ARTICLE_RE = re.compile(r'<article id="message-(\d+)"')
_ANSWERED_RE = re.compile(r'data-answered="([0-9a-fA-F-]+)"')
_COMPOSER_ERROR_RE = re.compile(r'<p id="composer-error"[^>]*>(.*?)</p>', re.DOTALL)


@dataclass(frozen=True)
class Marker:
    run: str
    sender: str
    seq: int
    sent_at: float  # seconds since the epoch

    def text(self) -> str:
        micros = round(self.sent_at * 1_000_000)
        return f"{MARKER_PREFIX}:{self.run}:{self.sender}:{self.seq}:{micros}"


def make_body(marker: Marker, size: int = 0) -> str:
    """A message body that carries the marker, padded with words up to `size` characters."""
    body = f"load test {marker.text()}"
    if size > len(body):
        padding = " lorem" * ((size - len(body)) // 6 + 1)
        body = (body + padding)[:size]
    return body


def find_markers(html: str) -> list[Marker]:
    return [
        Marker(
            run=match["run"],
            sender=match["sender"],
            seq=int(match["seq"]),
            sent_at=int(match["micros"]) / 1_000_000,
        )
        for match in _MARKER_RE.finditer(html)
    ]


class Kind(StrEnum):
    MESSAGE = "message"  # chat messages pushed to the room, or replayed on resume
    REFRESHED = "refreshed"  # the whole conversation again (a gap too large to replay)
    ACK = "ack"  # the sender's acknowledgement (the composer's error slot, empty)
    REJECTED = "rejected"  # the composer's error slot with an error in it
    ANNOUNCEMENT = "announcement"
    BELL = "bell"  # the notification badge, first frame on every socket
    OTHER = "other"


@dataclass(frozen=True)
class Frame:
    kind: Kind
    markers: tuple[Marker, ...] = ()  # announcements: the markers in the banner
    messages: tuple[tuple[int, Marker | None], ...] = ()  # messages: (id, its marker if any)
    answered: str = ""  # the acknowledged send's client id


def find_messages(html: str) -> tuple[tuple[int, Marker | None], ...]:
    """Each `<article id="message-N">` in the frame, with the marker in its body if any."""
    starts = list(_ARTICLE_RE.finditer(html))
    found = []
    for n, match in enumerate(starts):
        end = starts[n + 1].start() if n + 1 < len(starts) else len(html)
        markers = find_markers(html[match.end() : end])
        found.append((int(match[1]), markers[0] if markers else None))
    return tuple(found)


def classify(html: str) -> Frame:
    """What a pushed HTML frame is, and the markers and ids in it."""
    composer_error = _COMPOSER_ERROR_RE.search(html)
    if composer_error:
        answered = _ANSWERED_RE.search(composer_error[0])
        error = bool(composer_error[1].strip())
        return Frame(
            kind=Kind.REJECTED if error else Kind.ACK,
            answered=answered[1] if answered else "",
        )
    if 'id="history"' in html and 'hx-swap-oob="true"' in html:
        return Frame(kind=Kind.REFRESHED, messages=find_messages(html))
    if 'hx-swap-oob="beforeend:#messages"' in html:
        return Frame(kind=Kind.MESSAGE, messages=find_messages(html))
    if 'id="announcement-banner"' in html:
        return Frame(kind=Kind.ANNOUNCEMENT, markers=tuple(find_markers(html)))
    if 'id="bell"' in html:
        return Frame(kind=Kind.BELL)
    return Frame(kind=Kind.OTHER)
