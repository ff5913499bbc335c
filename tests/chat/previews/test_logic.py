import ipaddress

import pytest

from chat.previews.logic import (
    FetchTarget,
    PageMetadata,
    Refused,
    address_refusal,
    content_type,
    embedded_ipv4,
    first_link,
    page_metadata,
    page_text,
    parse_fetch_url,
    parse_networks,
)


@pytest.mark.parametrize(
    ("body", "link"),
    [
        ("see https://example.com/a?b=c, it is good", "https://example.com/a?b=c"),
        ("(https://example.com/page).", "https://example.com/page"),
        ("https://en.wikipedia.org/wiki/Foo_(bar)", "https://en.wikipedia.org/wiki/Foo_(bar)"),
        ("HTTP://EXAMPLE.COM", "HTTP://EXAMPLE.COM"),
        ("two: http://a.example/ and https://b.example/", "http://a.example/"),
        ("ftp://example.com/file and javascript:alert(1)", None),
        ("no links here", None),
        ("https://", None),
    ],
)
def test_first_link(body, link):
    assert first_link(body) == link


@pytest.mark.parametrize(
    ("url", "target"),
    [
        (
            "https://example.com",
            FetchTarget("https://example.com/", "https", "example.com", 443, "/"),
        ),
        (
            "http://example.com:8080/a/b?q=1#frag",
            FetchTarget("http://example.com:8080/a/b?q=1", "http", "example.com", 8080, "/a/b?q=1"),
        ),
        (
            "https://bücher.example/",
            FetchTarget("https://bücher.example/", "https", "xn--bcher-kva.example", 443, "/"),
        ),
    ],
)
def test_parse_fetch_url(url, target):
    assert parse_fetch_url(url) == target


# The request line is ASCII: what a person types (or a redirect names) beyond printable ASCII
# is sent percent-encoded, as a browser sends it; escapes already there stay as they are.
@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://de.example/wiki/Straße", "/wiki/Stra%C3%9Fe"),
        ("https://example.com/?q=日本", "/?q=%E6%97%A5%E6%9C%AC"),
        ("https://example.com/a%20b?c=%2F", "/a%20b?c=%2F"),
        ("https://example.com/a\x01b c", "/a%01b%20c"),
        ('https://example.com/~a/(b)?x=[1]&y="', '/~a/(b)?x=[1]&y="'),
    ],
)
def test_parse_fetch_url_sends_an_ascii_path(url, path):
    assert parse_fetch_url(url).path == path


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/", "Only http and https"),
        ("file:///etc/passwd", "Only http and https"),
        ("gopher://example.com/", "Only http and https"),
        ("http://user:pw@example.com/", "credentials"),
        ("http:///path", "no host"),
        ("http://example.com:99999/", "malformed"),
        ("https://example.com/" + "a" * 2000, "too long"),
    ],
)
def test_parse_fetch_url_refuses(url, reason):
    with pytest.raises(Refused, match=reason):
        parse_fetch_url(url)


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("93.184.215.14", None),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", None),
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00:ec2::254", "private"),
        ("0.0.0.0", "private or reserved"),  # noqa: S104
        ("224.0.0.1", "private or reserved"),
        ("100.64.0.1", "not public"),
        ("not-an-ip", "not an IP address"),
    ],
)
def test_address_refusal(address, refused):
    reason = address_refusal(address, allowed=[])
    if refused is None:
        assert reason is None
    else:
        assert reason is not None
        assert refused in reason


def six_to_four(ipv4: str) -> str:
    return str(ipaddress.IPv6Address((0x2002 << 112) | (int(ipaddress.IPv4Address(ipv4)) << 80)))


def teredo(client: str, server: str = "65.54.227.120") -> str:
    """A Teredo address: the server, flags, then the client's port and address obfuscated."""
    value = (0x20010000 << 96) | (int(ipaddress.IPv4Address(server)) << 64)
    value |= (0xFFFF ^ 40000) << 32
    value |= 0xFFFFFFFF ^ int(ipaddress.IPv4Address(client))
    return str(ipaddress.IPv6Address(value))


def nat64(ipv4: str) -> str:
    return f"64:ff9b::{ipv4}"


EMBEDDED_CASES = [
    ("127.0.0.1", "It points to this server (a loopback address)."),
    ("169.254.169.254", "It points to a link-local address (such as a cloud metadata service)."),
    ("10.0.0.1", "It points to a private or reserved network."),
    ("192.168.1.1", "It points to a private or reserved network."),
    ("172.16.5.4", "It points to a private or reserved network."),
    ("0.0.0.0", "It points to a private or reserved network."),  # noqa: S104
    ("100.64.0.1", "It points to an address that is not public."),
    ("93.184.215.14", None),
]


@pytest.mark.parametrize("embed", [six_to_four, teredo, nat64], ids=["6to4", "teredo", "nat64"])
@pytest.mark.parametrize(("ipv4", "refusal"), EMBEDDED_CASES)
def test_embedded_ipv4_is_judged_by_the_address_it_embeds(embed, ipv4, refusal):
    # Whatever the interpreter: Python 3.12.1 does not classify 6to4 at all.
    assert address_refusal(embed(ipv4), allowed=[]) == refusal


def test_embedded_addresses_are_decoded():
    assert six_to_four("127.0.0.1") == "2002:7f00:1::"
    assert teredo("127.0.0.1").startswith("2001:0:4136:e378:")
    assert embedded_ipv4(ipaddress.IPv6Address(teredo("10.0.0.1"))) == [
        ipaddress.IPv4Address("10.0.0.1"),
        ipaddress.IPv4Address("65.54.227.120"),
    ]
    assert embedded_ipv4(ipaddress.IPv6Address("2606:2800:21f:cb07:6820:80da:af6b:8b2c")) == []


def test_a_teredo_address_through_an_inner_server_is_refused():
    refusal = address_refusal(teredo("93.184.215.14", server="127.0.0.1"), allowed=[])
    assert refusal == "It points to this server (a loopback address)."


def test_local_use_nat64_is_refused_since_its_embedding_is_unknown():
    assert address_refusal("64:ff9b:1::7f00:1", allowed=[]) == (
        "It points to a private or reserved network (local-use NAT64)."
    )


def test_an_allowed_network_lets_an_embedded_address_through():
    allowed = parse_networks(["10.0.0.0/8"])
    assert address_refusal(nat64("10.1.2.3"), allowed=allowed) is None
    assert address_refusal(six_to_four("10.1.2.3"), allowed=allowed) is None


def test_with_public_off_only_allowed_networks_are_fetched():
    allowed = parse_networks(["127.0.0.1/32"])
    assert address_refusal("127.0.0.1", allowed=allowed, public=False) is None
    assert "allow-listed" in (address_refusal("93.184.215.14", allowed=allowed, public=False) or "")
    assert "private" in (address_refusal("10.0.0.1", allowed=allowed, public=False) or "")


def test_allowed_networks_let_private_addresses_through():
    allowed = parse_networks(["127.0.0.1/32", " 10.0.0.0/8 ", ""])
    assert address_refusal("127.0.0.1", allowed=allowed) is None
    assert address_refusal("10.9.8.7", allowed=allowed) is None
    assert address_refusal("127.0.0.2", allowed=allowed) is not None
    assert address_refusal("169.254.169.254", allowed=allowed) is not None


@pytest.mark.parametrize(
    ("header", "parsed"),
    [
        ("text/html; charset=ISO-8859-1", ("text/html", "ISO-8859-1")),
        ('Text/HTML; Charset="utf-8"', ("text/html", "utf-8")),
        ("image/png", ("image/png", None)),
        (None, ("", None)),
    ],
)
def test_content_type(header, parsed):
    assert content_type(header) == parsed


# The charset is the site's to name: one Python has no text codec for is read as UTF-8, and
# NUL and unpaired surrogates (which some codecs make) become U+FFFD, as no field holds them.
@pytest.mark.parametrize(
    ("body", "charset", "text"),
    [
        ("Grüße".encode("latin-1"), "ISO-8859-1", "Grüße"),
        ("Grüße".encode(), None, "Grüße"),
        ("Grüße".encode(), "no-such-charset", "Grüße"),
        (b"R3L=", "base64", "R3L="),
        (b"a.b", "idna", "a.b"),
        (b"a\x00b", "utf-8", "a\ufffdb"),
        (b"a\\ud800b\\x00c", "unicode_escape", "a\ufffdb\ufffdc"),
    ],
)
def test_page_text(body, charset, text):
    assert page_text(body, charset) == text


PAGE = """<!doctype html><html><head>
<title>  Plain   title </title>
<meta property="og:title" content="Open &amp; Graph">
<meta name="description" content="Plain description">
<meta property="og:description" content="<script>alert(1)</script>">
<meta property="og:site_name" content="Example">
<meta property="og:image" content="/img/card.png">
</head><body><meta property="og:title" content="ignored, in the body"></body></html>"""


def test_page_metadata_prefers_open_graph():
    assert page_metadata(PAGE, base_url="https://example.com/post/1") == PageMetadata(
        title="Open & Graph",
        description="<script>alert(1)</script>",
        site_name="Example",
        image_url="https://example.com/img/card.png",
    )


@pytest.mark.parametrize(
    ("html", "metadata"),
    [
        (
            "<title>Only a title</title><meta name=description content='Short'>",
            PageMetadata(title="Only a title", description="Short"),
        ),
        ("<p>no head at all</p>", PageMetadata()),
        (
            "<meta property='og:image' content='javascript:alert(1)'><title>t</title>",
            PageMetadata(title="t"),
        ),
        (f"<title>{'x' * 400}</title>", PageMetadata(title="x" * 299 + "…")),
    ],
)
def test_page_metadata_cases(html, metadata):
    assert page_metadata(html, base_url="https://example.com/") == metadata
