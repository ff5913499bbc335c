"""The link previewer's guard against server-side request forgery, against a real local HTTP
server. Name resolution is given as a function, so tests can make any host name resolve to any
address without touching DNS. Time is a ManualClock that the fake sites move on, so a test
says exactly when the deadline passes; one test runs the system clock's real watchdog."""

import contextlib
import socket
import threading
import time
from collections.abc import Callable

import pytest

from chat.previews.fetch import Deadline, FetchFailed, fetch
from chat.previews.logic import HTML_TYPES, Refused, parse_networks
from tests.servers import free_port, hung_up

LOCAL = parse_networks(["127.0.0.1/32"])
PAGE = b"<html><head><title>Hello</title></head><body>hi</body></html>"


class ManualClock:
    """A deadline's time, moved only by `advance` (from any thread). A watchdog due by then is
    called at once, in the thread that moved the time, as the system clock's timer thread
    would call it; `fired` counts them."""

    def __init__(self) -> None:
        self.time = 1000.0
        self.lock = threading.Lock()
        self.timers: list[tuple[float, Callable[[], None]]] = []
        self.fired = 0

    def now(self) -> float:
        return self.time

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Callable[[], None]:
        timer = (self.time + seconds, callback)
        with self.lock:
            self.timers.append(timer)
        self.run_due()

        def cancel() -> None:
            with self.lock:
                if timer in self.timers:
                    self.timers.remove(timer)

        return cancel

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.time += seconds
        self.run_due()

    def run_due(self) -> None:
        with self.lock:
            due = sorted((t for t in self.timers if t[0] <= self.time), key=lambda t: t[0])
            for timer in due:
                self.timers.remove(timer)
            self.fired += len(due)
        for _, callback in due:
            callback()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def get(
    url,
    *,
    allowed=LOCAL,
    resolver=None,
    accept=HTML_TYPES,
    max_bytes=10_000,
    timeout=2.0,
    truncate=True,
    clock=None,
):
    options = {"resolver": resolver} if resolver else {}
    if clock is not None:
        options["clock"] = clock
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


def test_the_deadline_is_read_on_its_clock(clock):
    deadline = Deadline.after(1.0, clock=clock)
    assert deadline.remaining() == 1.0
    clock.advance(0.75)
    assert deadline.remaining() == 0.25
    clock.advance(0.25)
    with pytest.raises(FetchFailed, match="took too long"):
        deadline.remaining()


def test_the_watchdog_shuts_the_socket_at_the_deadline_and_not_after_the_block(clock):
    left, right = socket.socketpair()
    with left, right:
        deadline = Deadline.after(1.0, clock=clock)
        with deadline.guarding(left):
            clock.advance(0.5)
            right.sendall(b"in time")
            assert left.recv(100) == b"in time"
            clock.advance(0.5)
            assert deadline.expired.is_set()
            assert left.recv(100) == b""  # shut: a read returns at once
        assert clock.fired == 1

        other = Deadline.after(1.0, clock=clock)
        with other.guarding(right):
            pass
        clock.advance(2.0)
        assert clock.fired == 1  # the block was over in time: its watchdog was cancelled
        assert not other.expired.is_set()


def test_the_system_clock_wakes_a_read_stalled_past_the_deadline():
    """The one test on the machine's own time: the real timer thread must shut a socket that a
    read is blocked on. The socket's own timeout is only there to end the test if it never does
    (the read would then raise instead of returning)."""
    left, right = socket.socketpair()
    with left, right:
        left.settimeout(30)
        started = time.monotonic()
        deadline = Deadline.after(0.2)
        with deadline.guarding(left):
            assert left.recv(1) == b""  # nothing is ever sent: only the watchdog ends this
        elapsed = time.monotonic() - started
    assert deadline.expired.is_set()
    # A real timer fires when the machine gets round to it, so when is only a bound, and a
    # generous one: a loaded machine runs a ready thread seconds late.
    assert elapsed < 10


class Stalling:
    """A site that sends `head`, then `chunks` one at a time, `every` seconds apart on
    `clock`, until the fetch's watchdog fires; then it stalls until the fetch hangs up.
    `sent` records the chunks; `hung_up` is set when the fetch hangs up on the stalled site."""

    def __init__(
        self, head: bytes, chunks: list[bytes], *, every: float, clock: ManualClock
    ) -> None:
        self.head, self.chunks, self.every, self.clock = head, chunks, every, clock
        self.sent: list[bytes] = []
        self.hung_up = threading.Event()

    def __call__(self, handler) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the fetch gave up
            handler.wfile.write(self.head)
            for chunk in self.chunks:
                if self.clock.fired:
                    break
                handler.wfile.write(chunk)
                handler.wfile.flush()
                self.sent.append(chunk)
                self.clock.advance(self.every)
        if hung_up(handler):
            self.hung_up.set()


def test_a_slow_site_times_out_while_sending_its_page(site, clock):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
    slow = site.routes["/slow"] = Stalling(head, [b"<p>"] * 40, every=0.25, clock=clock)
    with pytest.raises(FetchFailed, match="too long"):
        get(site.url("/slow"), timeout=1.0, clock=clock)
    assert slow.sent == [b"<p>"] * 4  # the fourth one reached the deadline
    assert slow.hung_up.wait(30)


DRIBBLED_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: "
    + b"x" * 200
    + b"\r\n\r\n<title>late</title>"
)


@pytest.mark.parametrize(("every", "in_time"), [(1 / 16, 16), (1 / 4, 4)])
def test_a_site_dribbling_its_status_line_and_headers_ends_at_the_deadline(
    site, clock, every, in_time
):
    # A byte at a time: each read is quick, only a deadline on their sum stops this.
    dribbled = [bytes([byte]) for byte in DRIBBLED_HEAD]
    dribble = site.routes["/dribble"] = Stalling(b"", dribbled, every=every, clock=clock)
    with pytest.raises(FetchFailed, match="took too long"):
        get(site.url("/dribble"), timeout=1.0, clock=clock)
    assert b"".join(dribble.sent) == DRIBBLED_HEAD[:in_time]
    assert dribble.hung_up.wait(30)


def test_the_deadline_covers_every_redirect_hop_together(site, clock):
    def hop(handler):
        clock.advance(0.3)  # each hop takes 0.3 s: the fourth one passes the deadline
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the fetch gave up
            handler.send_response(302)
            handler.send_header("Location", "/hop")
            handler.send_header("Content-Length", "0")
            handler.end_headers()

    site.routes["/hop"] = hop
    with pytest.raises(FetchFailed, match="took too long"):
        fetch(
            site.url("/hop"),
            accept=HTML_TYPES,
            max_bytes=1000,
            timeout=1.0,
            allowed=LOCAL,
            max_redirects=50,
            truncate=True,
            clock=clock,
        )
    assert len(site.requests) == 4
    assert clock.fired == 1  # the watchdog cut the fourth hop


def test_a_name_lookup_that_hangs_ends_at_the_deadline(clock):
    answer = threading.Event()
    looked_up = []

    def hanging(host, port):
        looked_up.append(host)
        clock.advance(1.0)  # the lookup is still going when the deadline passes
        answer.wait(30)  # and goes on (released when the test ends)
        return ["127.0.0.1"]

    try:
        with pytest.raises(FetchFailed, match="Looking up the host took too long"):
            get("http://slow-dns.example/", resolver=hanging, timeout=1.0, clock=clock)
    finally:
        answer.set()
    assert looked_up == ["slow-dns.example"]
    assert clock.fired == 1


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
