"""The link previewer's guard against server-side request forgery, against a real local HTTP
server. Name resolution is given as a function, so tests can make any host name resolve to any
address without touching DNS."""

import contextlib
import threading
import time

import pytest

from chat.previews.fetch import FetchFailed, fetch
from chat.previews.logic import HTML_TYPES, Refused, parse_networks
from tests.servers import free_port

LOCAL = parse_networks(["127.0.0.1/32"])
PAGE = b"<html><head><title>Hello</title></head><body>hi</body></html>"


def get(
    url,
    *,
    allowed=LOCAL,
    resolver=None,
    accept=HTML_TYPES,
    max_bytes=10_000,
    timeout=2.0,
    truncate=True,
):
    options = {"resolver": resolver} if resolver else {}
    return fetch(
        url,
        accept=accept,
        max_bytes=max_bytes,
        timeout=timeout,
        allowed=allowed,
        max_redirects=3,
        truncate=truncate,
        **options,
    )


def resolving_to(*addresses):
    def resolver(host, port):
        return list(addresses)

    return resolver


def test_an_allow_listed_local_page_is_fetched(site):
    site.reply("/page", PAGE)
    fetched = get(site.url("/page"))
    assert fetched.body == PAGE
    assert fetched.content_type == "text/html"
    assert fetched.charset == "utf-8"


def test_loopback_is_refused_without_the_allow_list(site):
    site.reply("/page", PAGE)
    with pytest.raises(Refused) as refused:
        get(site.url("/page"), allowed=[])
    assert site.requests == []
    # The page prefixes "No preview:" itself (chat/room.html), so the reason does not.
    assert str(refused.value) == "It points to this server (a loopback address)."


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.0.0.7", "private"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("::1", "loopback"),
        ("127.0.0.2", "loopback"),
    ],
)
def test_names_resolving_to_inner_addresses_are_refused(address, reason):
    with pytest.raises(Refused, match=reason):
        get("http://innocent.example/", resolver=resolving_to(address))


def test_a_name_with_one_bad_address_among_good_ones_is_refused():
    with pytest.raises(Refused, match="private"):
        get("http://mixed.example/", resolver=resolving_to("93.184.215.14", "10.0.0.1"))


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]:80/"]
)
def test_literal_metadata_and_mapped_loopback_addresses_are_refused(url):
    with pytest.raises(Refused):
        get(url, allowed=[])


def test_the_connection_goes_to_the_checked_address(site):
    """The name is resolved once, checked, and that address is connected to; the Host header
    still names the site. A second, different DNS answer never gets a say."""
    site.reply("/page", PAGE)
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])
    fetched = get(f"http://preview.example:{site.port}/page", resolver=lambda h, p: next(answers))
    assert fetched.body == PAGE
    assert site.requests == [("/page", f"preview.example:{site.port}")]


def test_redirects_are_followed_and_checked(site):
    site.redirect("/old", "/new")
    site.reply("/new", PAGE)
    assert get(site.url("/old")).url == site.url("/new")


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://10.0.0.5/admin", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://127.0.0.2/", "loopback"),
        ("file:///etc/passwd", "Only http and https"),
    ],
)
def test_a_redirect_to_an_inner_address_is_refused(site, location, reason):
    site.redirect("/go", location)
    with pytest.raises(Refused, match=reason):
        get(site.url("/go"))
    assert [path for path, _ in site.requests] == ["/go"]


def test_redirect_loops_end(site):
    site.redirect("/loop", "/loop")
    with pytest.raises(Refused, match="too many times"):
        get(site.url("/loop"))


def test_only_html_is_accepted(site):
    site.reply("/file", b"\x00" * 100, content_type="application/octet-stream")
    with pytest.raises(Refused, match="not a web page"):
        get(site.url("/file"))


def test_a_long_page_is_cut_at_the_cap(site):
    site.reply("/big", PAGE + b"x" * 50_000)
    assert len(get(site.url("/big"), max_bytes=1000).body) == 1000


def test_a_large_image_is_refused(site):
    site.reply("/big.png", b"x" * 50_000, content_type="image/png")
    with pytest.raises(Refused, match="larger than"):
        get(site.url("/big.png"), accept=frozenset({"image/png"}), max_bytes=1000, truncate=False)


def test_a_slow_site_times_out(site):
    def slow(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        for _ in range(40):
            handler.wfile.write(b"<p>")
            handler.wfile.flush()
            time.sleep(0.1)  # the site's pace, not the test's synchronisation

    site.routes["/slow"] = slow
    started = time.monotonic()
    with pytest.raises(FetchFailed, match="too long"):
        get(site.url("/slow"), timeout=1.0)
    assert time.monotonic() - started < 2.5


def dribble(data: bytes, *, every: float):
    """A site that sends `data` one byte at a time: each read is quick, their sum is not."""

    def route(handler):
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the fetch gave up
            for byte in data:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(every)  # the site's pace, not the test's synchronisation

    return route


DRIBBLED_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: "
    + b"x" * 200
    + b"\r\n\r\n<title>late</title>"
)


@pytest.mark.parametrize("every", [0.05, 0.3])
def test_a_site_dribbling_its_status_line_and_headers_ends_at_the_deadline(site, every):
    # Each byte comes well within the per-read timeout; only a total deadline stops this.
    site.routes["/dribble"] = dribble(DRIBBLED_HEAD, every=every)
    started = time.monotonic()
    with pytest.raises(FetchFailed, match="took too long"):
        get(site.url("/dribble"), timeout=1.0)
    assert time.monotonic() - started < 1.0 + 0.5


def test_the_deadline_covers_every_redirect_hop_together(site):
    site.routes["/hop"] = dribble(
        b"HTTP/1.1 302 Found\r\nLocation: /hop\r\nContent-Length: 0\r\n\r\n", every=0.005
    )
    started = time.monotonic()
    with pytest.raises(FetchFailed, match="took too long"):
        fetch(
            site.url("/hop"),
            accept=HTML_TYPES,
            max_bytes=1000,
            timeout=1.0,
            allowed=LOCAL,
            max_redirects=50,
            truncate=True,
        )
    assert time.monotonic() - started < 1.0 + 0.5
    assert 1 < len(site.requests) < 50


def test_a_name_lookup_that_hangs_ends_at_the_deadline(site):
    answer = threading.Event()

    def hanging(host, port):
        answer.wait(30)  # a resolver that does not answer (released when the test ends)
        return ["127.0.0.1"]

    started = time.monotonic()
    try:
        with pytest.raises(FetchFailed, match="Looking up the host took too long"):
            get("http://slow-dns.example/", resolver=hanging, timeout=1.0)
        assert time.monotonic() - started < 1.0 + 0.5
    finally:
        answer.set()


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, FetchFailed), (503, FetchFailed), (429, FetchFailed), (404, Refused), (403, Refused)],
)
def test_server_errors_are_retried_and_client_errors_are_not(site, status, error):
    site.reply("/status", b"nope", status=status)
    with pytest.raises(error, match=str(status)):
        get(site.url("/status"))


def test_a_closed_port_is_a_failure_worth_retrying():
    port = free_port()  # nothing listens there
    with pytest.raises(FetchFailed, match="Connecting"):
        get(f"http://127.0.0.1:{port}/")


def test_without_public_fetching_names_are_not_even_looked_up(site):
    looked_up = []

    def resolver(host, port):
        looked_up.append(host)
        return ["127.0.0.1"]

    with pytest.raises(Refused, match="allow-listed"):
        fetch(
            f"http://preview.example:{site.port}/",
            accept=HTML_TYPES,
            max_bytes=1000,
            timeout=2,
            allowed=LOCAL,
            max_redirects=0,
            truncate=True,
            public=False,
            resolver=resolver,
        )
    assert looked_up == []
    site.reply("/page", PAGE)
    fetched = fetch(
        site.url("/page"),
        accept=HTML_TYPES,
        max_bytes=1000,
        timeout=2,
        allowed=LOCAL,
        max_redirects=0,
        truncate=True,
        public=False,
    )
    assert fetched.body == PAGE
