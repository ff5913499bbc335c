"""Link preview rules as pure functions: which link, whether its address may be fetched (the
server-side request forgery policy), and what a page's <head> says about it."""

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from realtime.text import BAD_TEXT

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
    path = request_target(parts.path or "/")
    if parts.query:
        path += "?" + request_target(parts.query)
    return FetchTarget(
        url=urlunsplit((scheme, parts.netloc, parts.path or "/", parts.query, "")),
        scheme=scheme,
        host=ascii_host,
        port=port or (443 if scheme == "https" else 80),
        path=path,
    )


# What may stand as it is in the request line; "%" too, so escapes already there are kept.
REQUEST_TARGET_SAFE = "".join(map(chr, range(0x21, 0x7F)))


def request_target(text: str) -> str:
    """A link's path or query as a browser sends it: every character but printable ASCII
    (letters of other scripts, spaces, controls) percent-encoded as UTF-8. The request line is
    ASCII; http.client fails on anything else."""
    return quote(text, safe=REQUEST_TARGET_SAFE)


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


def page_text(body: bytes, charset: str | None) -> str:
    """A fetched page as text: in its declared charset, or UTF-8 when that is none Python
    decodes text with (a made-up name, a codec like base64, one that cannot replace what it
    fails to decode), with what no field can hold (NUL, unpaired surrogates, which some codecs
    make) replaced."""
    try:
        text = body.decode(charset or "utf-8", errors="replace")
    except (LookupError, UnicodeError):
        text = body.decode("utf-8", errors="replace")
    return BAD_TEXT.sub("\ufffd", text)


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
