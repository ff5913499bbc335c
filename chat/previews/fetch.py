"""Fetching a page or image that someone linked, without letting them aim the server at itself
or at its network (server-side request forgery).

Every hop (the link, then each redirect) is checked the same way: http or https only, the host
name resolved here, every address it resolves to checked (chat.previews.logic.address_refusal),
and the connection made to that checked address, so a second DNS answer cannot swap in another
one.
Reads are capped in size, and only the expected media types are accepted.

One deadline covers the whole fetch, every hop included: the name lookup (run in a thread the
fetch stops waiting for), the connection, the TLS handshake, the status line, the headers and
the body. A socket timeout bounds each read, not their sum (a site that sends a byte a second
never trips it), so a watchdog shuts the socket down when the deadline passes, and the fetch
fails as "too long" whatever it was waiting for. The deadline reads the time and starts its
watchdog through a Clock (the system's by default), so tests can move time themselves.
"""

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urljoin

from chat.previews.logic import FetchTarget, IPNetwork, Refused, address_refusal, content_type
from chat.previews.logic import parse_fetch_url as parse_url

Resolver = Callable[[str, int], list[str]]
REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024
USER_AGENT = "RelayLinkPreview/1.0"
TOO_LONG = "The site took too long to answer."


class FetchFailed(Exception):
    """A failure that may pass (a timeout, a refused connection, a server error): retried."""


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    content_type: str
    charset: str | None
    body: bytes


class Clock(Protocol):
    def now(self) -> float: ...

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` after `seconds`, from the thread that keeps the time; returns what
        cancels it."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Callable[[], None]:
        timer = threading.Timer(seconds, callback)
        timer.daemon = True
        timer.start()
        return timer.cancel


SYSTEM_CLOCK = SystemClock()


@dataclass
class Deadline:
    """The moment a fetch must be over by, and whether the watchdog ended it."""

    at: float
    clock: Clock = SYSTEM_CLOCK
    expired: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def after(cls, seconds: float, *, clock: Clock = SYSTEM_CLOCK) -> "Deadline":
        return cls(at=clock.now() + seconds, clock=clock)

    def remaining(self) -> float:
        left = self.at - self.clock.now()
        if left <= 0 or self.expired.is_set():
            raise FetchFailed(TOO_LONG)
        return left

    @contextmanager
    def calling(self, callback: Callable[[], None]) -> Iterator[None]:
        """Call `callback` (from the watchdog's thread) at the deadline, unless the block is
        over by then."""

        def expire() -> None:
            self.expired.set()
            callback()

        cancel = self.clock.call_later(max(0.0, self.at - self.clock.now()), expire)
        try:
            yield
        finally:
            cancel()

    @contextmanager
    def guarding(self, sock: socket.socket) -> Iterator["Guard"]:
        """Shut `sock` (or the TLS socket the guard is told replaced it) down at the
        deadline: every read blocked on it returns at once."""
        guard = Guard(sock)
        with self.calling(guard.shut):
            yield guard


class Guard:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def shut(self) -> None:
        # The plain socket's shutdown, also for a TLS socket: it wakes a blocked read without
        # touching the TLS state the reading thread is using. Already closed: nothing to do.
        with suppress(OSError):
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)


def resolve_within(resolver: Resolver, host: str, port: int, deadline: Deadline) -> list[str]:
    """`resolver(host, port)`, waited for until the deadline. getaddrinfo has no timeout of
    its own, so it runs in a daemon thread that is left behind if it takes too long."""
    outcome: list[list[str] | BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append(resolver(host, port))
        except BaseException as error:  # handed over to the waiting thread
            outcome.append(error)
        finally:
            done.set()

    deadline.remaining()  # already past it: "too long" before anything is looked up
    threading.Thread(target=run, name="fetch-resolve", daemon=True).start()
    with deadline.calling(done.set):
        done.wait()
    if not outcome:
        raise FetchFailed("Looking up the host took too long.")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        if error.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            raise Refused("The link's host name does not exist.") from None
        raise FetchFailed(f"Looking up the host failed ({error.strerror}).") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_addresses(
    target: FetchTarget,
    *,
    allowed: Sequence[IPNetwork],
    public: bool,
    resolver: Resolver,
    deadline: Deadline,
) -> list[str]:
    """The addresses of the target's host, if every one of them may be fetched."""
    if not public and not is_address(target.host):
        # Without public fetching nothing is looked up: only addresses written in the link.
        raise Refused("This server previews only links to its allow-listed networks.")
    addresses = resolve_within(resolver, target.host, target.port, deadline)
    if not addresses:
        raise Refused("The link's host name does not resolve.")
    for address in addresses:
        refusal = address_refusal(address, allowed=allowed, public=public)
        if refusal is not None:
            raise Refused(refusal)
    return addresses


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def open_socket(target: FetchTarget, address: str, deadline: Deadline) -> socket.socket:
    try:
        return socket.create_connection((address, target.port), timeout=deadline.remaining())
    except TimeoutError:
        raise FetchFailed("Connecting to the site timed out.") from None
    except OSError as error:
        raise FetchFailed(f"Connecting to the site failed ({error.strerror or error}).") from None


def connect(target: FetchTarget, guard: Guard, deadline: Deadline) -> http.client.HTTPConnection:
    """An HTTP connection over the guarded socket, secured first for https."""
    sock = guard.sock
    if target.scheme == "https":
        context = ssl.create_default_context()
        try:
            secure = context.wrap_socket(
                sock, server_hostname=target.host, do_handshake_on_connect=False
            )
            guard.sock = secure  # from here on the watchdog shuts this one
            secure.settimeout(deadline.remaining())
            secure.do_handshake()
        except ssl.SSLCertVerificationError:
            raise Refused("The site's certificate is not valid.") from None
        except (OSError, ssl.SSLError) as error:
            raise FetchFailed(f"The secure connection failed ({error}).") from None
        sock = secure
    connection = http.client.HTTPConnection(target.host, target.port)
    # Already connected to the checked address: http.client never resolves the name itself.
    connection.sock = sock
    return connection


def host_header(target: FetchTarget) -> str:
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"


def fetch(
    url: str,
    *,
    accept: frozenset[str],
    max_bytes: int,
    timeout: float,
    allowed: Sequence[IPNetwork],
    max_redirects: int,
    truncate: bool,
    public: bool = True,
    resolver: Resolver = resolve,
    clock: Clock = SYSTEM_CLOCK,
) -> Fetched:
    """GET `url`, following up to `max_redirects` redirects, each checked like the first, all
    within `timeout` seconds in total.

    `truncate`: keep the first `max_bytes` of a longer body (a page's head is at its start)
    instead of refusing it (an image cut short is useless)."""
    deadline = Deadline.after(timeout, clock=clock)
    for _ in range(max_redirects + 1):
        target = parse_url(url)
        addresses = checked_addresses(
            target, allowed=allowed, public=public, resolver=resolver, deadline=deadline
        )
        outcome = fetch_once(target, addresses[0], accept, max_bytes, truncate, deadline)
        if isinstance(outcome, Fetched):
            return outcome
        url = urljoin(target.url, outcome)
    raise Refused("The link redirects too many times.")


def fetch_once(
    target: FetchTarget,
    address: str,
    accept: frozenset[str],
    max_bytes: int,
    truncate: bool,
    deadline: Deadline,
) -> Fetched | str:
    """One request: what it fetched, or where it redirects to."""
    sock = open_socket(target, address, deadline)
    with deadline.guarding(sock) as guard:
        try:
            connection = connect(target, guard, deadline)
            try:
                response = send_request(connection, target, accept, deadline)
                if response.status in REDIRECTS:
                    location = (response.getheader("Location") or "").strip()
                    if not location:
                        raise Refused("The site redirected nowhere.")
                    return location
                fetched = read_body(
                    response, guard.sock, target, accept, max_bytes, truncate, deadline
                )
            finally:
                connection.close()
        except (FetchFailed, Refused):
            deadline.remaining()  # if the watchdog ended it: "too long", whatever failed
            raise
        finally:
            guard.sock.close()
        deadline.remaining()  # a body the watchdog cut short is not the body
        return fetched


def send_request(
    connection: http.client.HTTPConnection,
    target: FetchTarget,
    accept: frozenset[str],
    deadline: Deadline,
) -> http.client.HTTPResponse:
    try:
        connection.putrequest("GET", target.path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", host_header(target))
        connection.putheader("User-Agent", USER_AGENT)
        connection.putheader("Accept", ", ".join(sorted(accept)))
        connection.putheader("Accept-Encoding", "identity")
        connection.endheaders()
        assert connection.sock is not None
        connection.sock.settimeout(deadline.remaining())
        return connection.getresponse()
    except TimeoutError:
        raise FetchFailed(TOO_LONG) from None
    except (OSError, http.client.HTTPException) as error:
        raise FetchFailed(f"The site did not answer properly ({error}).") from None


def read_body(
    response: http.client.HTTPResponse,
    sock: socket.socket,
    target: FetchTarget,
    accept: frozenset[str],
    max_bytes: int,
    truncate: bool,
    deadline: Deadline,
) -> Fetched:
    status = response.status
    if status >= 500 or status in (408, 429):
        raise FetchFailed(f"The site answered {status}.")
    if status != 200:
        raise Refused(f"The site answered {status}.")
    mime, charset = content_type(response.getheader("Content-Type"))
    if mime not in accept:
        raise Refused(f"The link is not {describe(accept)} (it is “{mime or 'unknown'}”).")
    declared = response.getheader("Content-Length")
    if not truncate and declared and declared.isdigit() and int(declared) > max_bytes:
        raise Refused(f"The file is larger than {max_bytes:,} bytes.")
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= max_bytes:
            # One read at a time (read1), each within what is left of the deadline.
            sock.settimeout(deadline.remaining())
            chunk = response.read1(min(CHUNK, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            deadline.remaining()
    except TimeoutError:
        raise FetchFailed("The site took too long to send the page.") from None
    except (OSError, http.client.HTTPException) as error:
        raise FetchFailed(f"Reading from the site failed ({error}).") from None
    body = b"".join(chunks)
    if len(body) > max_bytes:
        if not truncate:
            raise Refused(f"The file is larger than {max_bytes:,} bytes.")
        body = body[:max_bytes]
    return Fetched(url=target.url, content_type=mime, charset=charset, body=body)


def describe(accept: frozenset[str]) -> str:
    return "a web page" if any("html" in mime for mime in accept) else "an image"
