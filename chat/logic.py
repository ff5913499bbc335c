"""Chat rules as pure functions: values in, values out."""

import csv
import io
import ipaddress
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, urlunsplit

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

ROOM_NAME_MAX_LENGTH = 60


class Invalid(ValueError):
    """Input a person sent that the chat refuses; the message is shown to them."""


def room_group_name(room_id: int) -> str:
    return f"chat.room.{room_id}"


LOBBY_GROUP = "chat.lobby"


SLOW_DOWN = "You are sending messages too fast. Wait a moment, then send again."


def clean_body(raw: object, *, max_length: int) -> str:
    if not isinstance(raw, str):
        raise Invalid("Type a message first.")
    # NUL is invisible, and PostgreSQL cannot store it in text.
    body = raw.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise Invalid("Type a message first.")
    if len(body) > max_length:
        raise Invalid(
            f"That message is {len(body):,} characters long; the limit is {max_length:,}."
        )
    return body


def parse_client_id(raw: object) -> uuid.UUID | None:
    if raw in (None, ""):
        return None
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise Invalid("That send had a malformed client id; reload the page.") from None


# Message ids are 64-bit (BigAutoField); anything larger fits no database column.
LARGEST_ID = 2**63 - 1


def parse_cursor(raw: object, *, name: str = "after") -> int:
    """A message (or change) id the page has seen (0 for none)."""
    kind = "a message id" if name in ("after", "have") else "an id"
    error = f"“{name}” must be {kind}."
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise Invalid(error)
    try:
        cursor = int(raw)
    except ValueError:
        raise Invalid(error) from None
    if not 0 <= cursor <= LARGEST_ID:
        raise Invalid(error)
    return cursor


def clean_room_name(raw: object) -> tuple[str, str]:
    """The room's display name and its URL slug."""
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid("Give the room a name.")
    name = " ".join(raw.split())
    if len(name) > ROOM_NAME_MAX_LENGTH:
        raise Invalid(f"Room names are at most {ROOM_NAME_MAX_LENGTH} characters.")
    slug = slugify(name)
    if not slug:
        raise Invalid("Room names need at least one letter or digit.")
    if slug.startswith(DIRECT_SLUG_PREFIX):
        raise Invalid(f"Room names may not start with “{DIRECT_SLUG_PREFIX}”.")
    return name, slug


# Direct conversations are rooms too, named after their two members' ids so that there is
# exactly one per pair; the prefix is reserved, so no other room can take such a name.
DIRECT_SLUG_PREFIX = "dm-"


def direct_slug(user_id: int, other_id: int) -> str:
    low, high = sorted((user_id, other_id))
    return f"{DIRECT_SLUG_PREFIX}{low}-{high}"


def direct_partner(member_names: Mapping[int, str], viewer_id: int) -> str:
    """The name a direct conversation goes by for `viewer_id`: the other person's."""
    others = [name for member_id, name in member_names.items() if member_id != viewer_id]
    return others[0] if others else "yourself"


def parse_message_id(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise Invalid("That is not a message id.")
    try:
        message_id = int(raw)
    except ValueError:
        raise Invalid("That is not a message id.") from None
    if message_id <= 0:
        raise Invalid("That is not a message id.")
    return message_id


# How many of its newest message ids a page reports when it resumes (see parse_shown_ids).
RESUME_SHOWN_LIMIT = 50


def parse_shown_ids(raw: object) -> list[int]:
    """The ids of the newest messages a resuming page shows (`have`), at most
    RESUME_SHOWN_LIMIT of them; missing means none. The server fills the holes between them:
    a message lost on its way while a newer one, from another process, arrived first."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > RESUME_SHOWN_LIMIT:
        raise Invalid(f"“have” must be a list of at most {RESUME_SHOWN_LIMIT} message ids.")
    return sorted({parse_cursor(item, name="have") for item in raw})


def parse_optional_cursor(raw: object, *, name: str) -> int | None:
    """A cursor the page may leave out (a page from before that stream was resumable)."""
    return None if raw is None else parse_cursor(raw, name=name)


def latest_changes(changes: Iterable[tuple[int, int]], *, skip_after: int) -> list[int]:
    """From (change id, message id) pairs in change order, the changed message ids ordered by
    their latest change, each once, leaving out messages newer than `skip_after` (those are
    replayed whole, as they are now)."""
    latest: dict[int, int] = {}
    for change_id, message_id in changes:
        if message_id <= skip_after:
            latest[message_id] = change_id
    return sorted(latest, key=latest.__getitem__)


def may_edit(*, author_id: int, editor_id: int) -> bool:
    return author_id == editor_id


def may_delete(*, author_id: int, deleter_id: int, deleter_is_staff: bool) -> bool:
    return author_id == deleter_id or deleter_is_staff


def may_remove_member(
    *, member_id: int, remover_id: int, owner_id: int | None, remover_is_staff: bool
) -> bool:
    """Anyone may leave; the room's creator and staff may remove others."""
    return member_id == remover_id or remover_id == owner_id or remover_is_staff


def room_space(room_id: int) -> str:
    """The presence space of the people with the room open."""
    return f"room.{room_id}"


def room_activity_group_name(room_id: int) -> str:
    """Pages with the room list, of everyone who can read the room: one small signal per
    message, the same for every viewer, from which each page counts its own unread."""
    return f"chat.activity.{room_id}"


def reader_group_name(user_id: int) -> str:
    """One person's tabs that show the room list: their read cursors' changes."""
    return f"user.{user_id}.reader"


UNREAD_LABEL_LIMIT = 99


def unread_label(count: int) -> str:
    return f"{UNREAD_LABEL_LIMIT}+" if count > UNREAD_LABEL_LIMIT else str(count)


def parse_id(raw: object, *, field: str, noun: str = "message") -> int:
    """A positive id (of a message, a room) from a query parameter or a frame."""
    error = f"“{field}” must be a {noun} id."
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise Invalid(error)
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(error) from None
    if value < 1:
        raise Invalid(error)
    return value


def window_split(limit: int) -> tuple[int, int]:
    """How many messages to show before an anchored message, and how many from it on."""
    before = limit // 2
    return before, limit - before


SEARCH_QUERY_MAX_LENGTH = 200
SEARCH_RESULTS_LIMIT = 50
SEARCH_CANDIDATES = 1000  # PostgreSQL ranks the newest this many matches


def clean_search_query(raw: object, *, max_length: int = SEARCH_QUERY_MAX_LENGTH) -> str:
    if not isinstance(raw, str):
        raise Invalid("Type something to search for.")
    query = " ".join(raw.split())
    if not query:
        raise Invalid("Type something to search for.")
    if len(query) > max_length:
        raise Invalid(f"Searches are at most {max_length} characters; that one is {len(query)}.")
    return query


def search_terms(query: str) -> list[str]:
    """The words of a search, lowercased, each once, without quotes and operators."""
    seen: dict[str, None] = {}
    for word in query.lower().split():
        word = word.strip("\"'").lstrip("-")
        if word and word != "or":
            seen.setdefault(word, None)
    return list(seen)


# Put around matches in snippets before escaping, then turned into <mark> by highlight().
# Private-use characters, so they never mean anything in a message.
MARK_START = "\ue000"
MARK_STOP = "\ue001"


def marked_snippet(body: str, terms: list[str], *, width: int = 160) -> str:
    """About `width` characters of `body` around the first match of any term, each match
    wrapped in MARK_START/MARK_STOP, an ellipsis where the text was cut."""
    flat = " ".join(body.replace(MARK_START, "").replace(MARK_STOP, "").split())
    lowered = flat.lower()
    found = [i for i in (lowered.find(term) for term in terms if term) if i >= 0]
    first = min(found, default=0)
    start = max(0, min(first - width // 3, len(flat) - width))
    end = min(len(flat), start + width)
    if start > 0:
        # Start at a word boundary rather than mid-word.
        space = flat.find(" ", start, first) if first > start else -1
        start = space + 1 if space >= 0 else start
    window = flat[start:end]
    spans = _match_spans(window.lower(), terms)
    marked = []
    cursor = 0
    for begin, stop in spans:
        marked += [window[cursor:begin], MARK_START, window[begin:stop], MARK_STOP]
        cursor = stop
    marked.append(window[cursor:])
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    return prefix + "".join(marked) + suffix


def _match_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Where the terms occur in `text`, merged where they overlap, in order."""
    spans: list[tuple[int, int]] = []
    for term in terms:
        if not term:
            continue
        at = text.find(term)
        while at >= 0:
            spans.append((at, at + len(term)))
            at = text.find(term, at + len(term))
    merged: list[tuple[int, int]] = []
    for begin, stop in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((begin, stop))
    return merged


def highlight(marked: str) -> SafeString:
    """Escaped HTML of a snippet whose matches are wrapped in MARK_START/MARK_STOP: each
    complete pair becomes <mark>…</mark>, and stray markers are dropped."""
    html: list[str] = []
    first, *rest = marked.split(MARK_START)
    html.append(escape(first.replace(MARK_STOP, "")))
    for segment in rest:
        inside, stop, after = segment.partition(MARK_STOP)
        if stop:
            html.append(f"<mark>{escape(inside)}</mark>{escape(after.replace(MARK_STOP, ''))}")
        else:
            html.append(escape(inside))
    return mark_safe("".join(html))  # noqa: S308 - every part of it is escaped


# Link previews --------------------------------------------------------------------------------

LINK = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
LINK_TRAILING_PUNCTUATION = ".,;:!?)]}'\""
URL_MAX_LENGTH = 2000
PREVIEW_TITLE_LENGTH = 300
PREVIEW_DESCRIPTION_LENGTH = 500
PREVIEW_SITE_NAME_LENGTH = 200
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


class Refused(ValueError):
    """A URL or address the previewer will not fetch, and why."""


def first_link(body: str) -> str | None:
    """The first http(s) link in a message, without the sentence's trailing punctuation."""
    for match in LINK.finditer(body):
        url = match.group(0)
        while url and url[-1] in LINK_TRAILING_PUNCTUATION:
            # A closing bracket that belongs to the URL (Wikipedia's "Foo_(bar)") stays.
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break
            url = url[:-1]
        if len(url) <= URL_MAX_LENGTH and "://" in url and url.split("://", 1)[1]:
            return url
    return None


@dataclass(frozen=True)
class FetchTarget:
    url: str
    scheme: str
    host: str  # as sent in the Host header and TLS SNI (IDNA-encoded)
    port: int
    path: str  # path and query, never empty


def parse_fetch_url(url: str) -> FetchTarget:
    if len(url) > URL_MAX_LENGTH:
        raise Refused("The link is too long.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise Refused("The link is malformed.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused("Only http and https links get previews.")
    if parts.username is not None or parts.password is not None:
        raise Refused("Links with credentials get no preview.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused("The link has no host.")
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise Refused("The link's host name is not valid.") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return FetchTarget(
        url=urlunsplit((scheme, parts.netloc, parts.path or "/", parts.query, "")),
        scheme=scheme,
        host=ascii_host,
        port=port or (443 if scheme == "https" else 80),
        path=path,
    )


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(cidrs: Iterable[str]) -> list[IPNetwork]:
    return [ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs if cidr.strip()]


NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses a packet to `ip` really goes to, decoded here rather than left to the
    interpreter (Python 3.12.1 does not classify 6to4): IPv4-mapped (::ffff:a.b.c.d), 6to4
    (2002::/16), Teredo (2001::/32: the client and its server) and NAT64's well-known prefix
    (64:ff9b::/96)."""
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        server, client = ip.teredo
        return [client, server]
    if ip in NAT64_WELL_KNOWN:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return []


def address_refusal(
    address: str, *, allowed: Sequence[IPNetwork], public: bool = True
) -> str | None:
    """Why the previewer must not connect to `address`, or None if it may.

    Only globally routable unicast addresses are fetched: not loopback, private, link-local
    (which holds the cloud metadata service, 169.254.169.254), shared, reserved or multicast
    ranges, also when embedded in an IPv6 address (IPv4-mapped, 6to4, Teredo, NAT64), which is
    judged by the IPv4 address it embeds. Networks in `allowed` are let through. With `public`
    off, only those are.
    """
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"“{address}” is not an IP address."
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in NAT64_LOCAL_USE:
            # Each network chooses where in these the IPv4 address sits: it cannot be judged.
            return "It points to a private or reserved network (local-use NAT64)."
        embedded = embedded_ipv4(ip)
        if embedded and not any(ip in network for network in allowed if network.version == 6):
            for inner in embedded:
                refusal = ip_refusal(inner, allowed=allowed, public=public)
                if refusal is not None:
                    return refusal
            return None
    return ip_refusal(ip, allowed=allowed, public=public)


def ip_refusal(ip: IPAddress, *, allowed: Sequence[IPNetwork], public: bool) -> str | None:
    if any(ip.version == network.version and ip in network for network in allowed):
        return None
    if ip.is_loopback:
        return "It points to this server (a loopback address)."
    if ip.is_link_local:
        return "It points to a link-local address (such as a cloud metadata service)."
    if ip.is_private or ip.is_reserved or ip.is_unspecified or ip.is_multicast:
        return "It points to a private or reserved network."
    if not ip.is_global:
        return "It points to an address that is not public."
    if not public:
        return "This server previews only links to its allow-listed networks."
    return None


def content_type(header: str | None) -> tuple[str, str | None]:
    """The media type (lowercase) and charset of a Content-Type header."""
    if not header:
        return "", None
    mime, _, rest = header.partition(";")
    charset = None
    for param in rest.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return mime.strip().lower(), charset


@dataclass(frozen=True)
class PageMetadata:
    title: str = ""
    description: str = ""
    site_name: str = ""
    image_url: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.title or self.description)


class _HeadParser(HTMLParser):
    """Collects <title> and the <meta> tags of a page's head; stops at the body."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title_parts: list[str] = []
        self.in_title = False
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if tag == "body":
            self.done = True
        elif tag == "title":
            self.in_title = True
        elif tag == "meta":
            values = {name.lower(): value or "" for name, value in attrs}
            key = (values.get("property") or values.get("name") or "").strip().lower()
            if key and "content" in values:
                self.meta.setdefault(key, values["content"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag == "head":
            self.done = True

    def handle_data(self, data: str) -> None:
        if self.in_title and not self.done:
            self.title_parts.append(data)


def squash(text: str, length: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


def page_metadata(html: str, *, base_url: str) -> PageMetadata:
    """A page's title, description, site name and image (Open Graph first, then the plain
    tags), as plain text; the image URL resolved against the page and http(s) only."""
    parser = _HeadParser()
    parser.feed(html)
    meta = parser.meta
    title = meta.get("og:title") or meta.get("twitter:title") or "".join(parser.title_parts)
    description = (
        meta.get("og:description") or meta.get("twitter:description") or meta.get("description")
    )
    image = (meta.get("og:image") or meta.get("twitter:image") or "").strip()
    image_url = urljoin(base_url, image) if image else ""
    if urlsplit(image_url).scheme.lower() not in ("http", "https"):
        image_url = ""
    return PageMetadata(
        title=squash(title, PREVIEW_TITLE_LENGTH),
        description=squash(description or "", PREVIEW_DESCRIPTION_LENGTH),
        site_name=squash(meta.get("og:site_name", ""), PREVIEW_SITE_NAME_LENGTH),
        image_url=image_url if len(image_url) <= URL_MAX_LENGTH else "",
    )


# Image attachments ----------------------------------------------------------------------------

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
IMAGE_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


def image_refusal(
    *, image_format: str | None, width: int, height: int, max_pixels: int
) -> str | None:
    """Why a decoded image is refused, or None."""
    if image_format not in IMAGE_TYPES:
        return "Attach a JPEG, PNG, GIF or WebP image."
    if width < 1 or height < 1:
        return "That image has no pixels."
    if width * height > max_pixels:
        return (
            f"That image is {width:,} by {height:,} pixels; the limit is "
            f"{max_pixels / 1_000_000:g} million pixels."
        )
    return None


def upload_size_refusal(size: int, *, max_bytes: int) -> str | None:
    if size <= 0:
        return "That file is empty."
    if size > max_bytes:
        return f"That file is {size / 1_000_000:.1f} MB; the limit is {max_bytes / 1_000_000:g} MB."
    return None


def thumbnail_size(width: int, height: int, *, box: int) -> tuple[int, int]:
    """The size that fits in a square of side `box` keeping the aspect ratio, never larger."""
    scale = min(1.0, box / width, box / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


# Transcript exports ---------------------------------------------------------------------------

TRANSCRIPT_FIELDS = ("id", "sent_at", "author", "body")
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class TranscriptLine:
    id: int
    sent_at: datetime
    author: str
    body: str

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "sent_at": self.sent_at.isoformat(),
            "author": self.author,
            "body": self.body,
        }


def spreadsheet_safe(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def transcript_csv_header() -> str:
    return _csv_row(TRANSCRIPT_FIELDS)


def transcript_csv_rows(lines: Iterable[TranscriptLine]) -> str:
    return "".join(
        _csv_row(
            [
                str(line.id),
                line.sent_at.isoformat(),
                spreadsheet_safe(line.author),
                spreadsheet_safe(line.body),
            ]
        )
        for line in lines
    )


def _csv_row(cells: Sequence[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def transcript_json_head(*, room: str, slug: str, exported_at: datetime) -> str:
    head = json.dumps({"room": room, "slug": slug, "exported_at": exported_at.isoformat()})
    return head[:-1] + ', "messages": ['


def transcript_json_rows(lines: Iterable[TranscriptLine], *, first: bool) -> str:
    parts = [json.dumps(line.as_dict(), ensure_ascii=False) for line in lines]
    if not parts:
        return ""
    return ("" if first else ", ") + ", ".join(parts)


TRANSCRIPT_JSON_TAIL = "]}"


def percent_done(done: int, total: int) -> int:
    if total <= 0:
        return 100
    return max(0, min(100, done * 100 // total))


REFRESH_LIMIT = 100


def parse_ids(raw: object, *, limit: int = REFRESH_LIMIT) -> list[int]:
    """A list of positive ids from a frame (at most `limit`, each once)."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > limit:
        raise Invalid(f"Expected a list of at most {limit} ids.")
    ids: dict[int, None] = {}
    for item in raw:
        if isinstance(item, bool) or not isinstance(item, int) or item <= 0:
            raise Invalid("Ids must be positive whole numbers.")
        ids[item] = None
    return list(ids)
