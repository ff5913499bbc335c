"""Fetching a page or image that someone linked, without letting them aim the server at itself
or at its network (server-side request forgery).

Every hop (the link, then each redirect) is checked the same way: http or https only, the host
name resolved here, every address it resolves to checked (chat.logic.address_refusal), and the
connection made to that checked address, so a second DNS answer cannot swap in another one.
Reads are capped in size and in time, and only the expected media types are accepted.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from chat.logic import FetchTarget, IPNetwork, Refused, address_refusal, content_type
from chat.logic import parse_fetch_url as parse_url

Resolver = Callable[[str, int], list[str]]
REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024
USER_AGENT = "RelayLinkPreview/1.0"


class FetchFailed(Exception):
    """A failure that may pass (a timeout, a refused connection, a server error): retried."""


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    content_type: str
    charset: str | None
    body: bytes


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        if error.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            raise Refused("The link's host name does not exist.") from None
        raise FetchFailed(f"Looking up the host failed ({error.strerror}).") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_addresses(
    target: FetchTarget, *, allowed: Sequence[IPNetwork], public: bool, resolver: Resolver
) -> list[str]:
    """The addresses of the target's host, if every one of them may be fetched."""
    if not public and not is_address(target.host):
        # Without public fetching nothing is looked up: only addresses written in the link.
        raise Refused("This server previews only links to its allow-listed networks.")
    addresses = resolver(target.host, target.port)
    if not addresses:
        raise Refused("The link's host name does not resolve.")
    for address in addresses:
        refusal = address_refusal(address, allowed=allowed, public=public)
        if refusal is not None:
            raise Refused(f"No preview for this link: {refusal}")
    return addresses


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def connect(target: FetchTarget, address: str, *, timeout: float) -> http.client.HTTPConnection:
    try:
        sock = socket.create_connection((address, target.port), timeout=timeout)
    except TimeoutError:
        raise FetchFailed("Connecting to the site timed out.") from None
    except OSError as error:
        raise FetchFailed(f"Connecting to the site failed ({error.strerror or error}).") from None
    if target.scheme == "https":
        context = ssl.create_default_context()
        try:
            sock = context.wrap_socket(sock, server_hostname=target.host)
        except ssl.SSLCertVerificationError:
            sock.close()
            raise Refused("The site's certificate is not valid.") from None
        except (OSError, ssl.SSLError) as error:
            sock.close()
            raise FetchFailed(f"The secure connection failed ({error}).") from None
    connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
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
) -> Fetched:
    """GET `url`, following up to `max_redirects` redirects, each checked like the first.

    `truncate`: keep the first `max_bytes` of a longer body (a page's head is at its start)
    instead of refusing it (an image cut short is useless)."""
    deadline = time.monotonic() + timeout
    for _ in range(max_redirects + 1):
        target = parse_url(url)
        addresses = checked_addresses(target, allowed=allowed, public=public, resolver=resolver)
        connection = connect(target, addresses[0], timeout=remaining(deadline))
        sock = connection.sock
        assert sock is not None
        try:
            response = send_request(connection, target, accept, deadline)
            if response.status in REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    raise Refused("The site redirected nowhere.")
                url = urljoin(target.url, location.strip())
                continue
            body = read_body(response, sock, target, accept, max_bytes, truncate, deadline)
            return body
        finally:
            connection.close()
    raise Refused("The link redirects too many times.")


def remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchFailed("The site took too long to answer.")
    return left


def send_request(
    connection: http.client.HTTPConnection,
    target: FetchTarget,
    accept: frozenset[str],
    deadline: float,
) -> http.client.HTTPResponse:
    try:
        connection.putrequest("GET", target.path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", host_header(target))
        connection.putheader("User-Agent", USER_AGENT)
        connection.putheader("Accept", ", ".join(sorted(accept)))
        connection.putheader("Accept-Encoding", "identity")
        connection.endheaders()
        assert connection.sock is not None
        connection.sock.settimeout(remaining(deadline))
        return connection.getresponse()
    except TimeoutError:
        raise FetchFailed("The site took too long to answer.") from None
    except (OSError, http.client.HTTPException) as error:
        raise FetchFailed(f"The site did not answer properly ({error}).") from None


def read_body(
    response: http.client.HTTPResponse,
    sock: socket.socket,
    target: FetchTarget,
    accept: frozenset[str],
    max_bytes: int,
    truncate: bool,
    deadline: float,
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
            # One read at a time (read1), each within what is left of the deadline: a site
            # that sends a byte now and then cannot hold the worker.
            sock.settimeout(remaining(deadline))
            chunk = response.read1(min(CHUNK, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            remaining(deadline)
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
