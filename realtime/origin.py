"""Which pages may open a socket: the site's own origin (scheme, host and port), and the
origins in CSRF_TRUSTED_ORIGINS; the rule Django's CSRF check applies to forms.

Channels' AllowedHostsOriginValidator compares only the Origin's host name with ALLOWED_HOSTS,
so a page on another port or scheme of an allowed host (another service on that machine, or
plain http beside https) could open a socket with the person's cookie."""

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

from realtime.auth import ASGIApp, Scope

DEFAULT_PORTS = {"http": "80", "https": "443"}


def normalized_origin(origin: str) -> str | None:
    """scheme://host[:port] in lower case without a default port, or None if malformed."""
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if port is None or str(port) == DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def origin_allowed(
    *,
    origin: str | None,
    scheme: str,
    host: str,
    allowed_hosts: list[str],
    trusted: Iterable[str],
) -> bool:
    """Whether a page at `origin` may open a socket on this site, reached at `host` (the Host
    header) over `scheme` (http or https, as the browser sees it)."""
    if not origin:
        return False
    found = normalized_origin(origin)
    if found is None:
        return False
    domain, _ = split_domain_port(host)
    own = bool(domain) and validate_host(domain, allowed_hosts)
    if own and found == normalized_origin(f"{scheme}://{host}"):
        return True
    return any(trusted_match(found, entry) for entry in trusted)


def trusted_match(origin: str, entry: str) -> bool:
    """CSRF_TRUSTED_ORIGINS' syntax: an exact origin, or `scheme://*.domain` for subdomains."""
    if "*" not in entry:
        return origin == normalized_origin(entry)
    scheme, _, pattern = entry.lower().partition("://")
    origin_scheme, _, netloc = origin.partition("://")
    return origin_scheme == scheme and is_same_domain(netloc, pattern.removeprefix("*"))


def request_scheme(scope_scheme: str | None, headers: Mapping[str, str]) -> str:
    """http or https for the handshake, as Django's request.is_secure() decides it: the
    proxy's header (SECURE_PROXY_SSL_HEADER) if configured and present, else the server's
    scheme (Daphne leaves it out of WebSocket scopes: "ws")."""
    proxy_header: tuple[str, str] | None = settings.SECURE_PROXY_SSL_HEADER
    if proxy_header:
        meta_name, secure_value = proxy_header
        value = headers.get(meta_name.removeprefix("HTTP_").replace("_", "-").lower())
        if value is not None:
            return "https" if value.split(",", 1)[0].strip() == secure_value else "http"
    return "https" if scope_scheme in ("https", "wss") else "http"


class SameOriginValidator:
    """Refuses (HTTP 403) a WebSocket handshake from any origin but the site's own and the
    trusted ones."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        # Decided in a function of its own: this frame lives as long as the socket, and
        # keeps nothing but the scope.
        if handshake_allowed(scope):
            await self.inner(scope, receive, send)
        else:
            await WebsocketDenier()(scope, receive, send)


def handshake_allowed(scope: Scope) -> bool:
    headers = {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in scope.get("headers", [])
    }
    return origin_allowed(
        origin=headers.get("origin"),
        scheme=request_scheme(scope.get("scheme"), headers),
        host=headers.get("host", ""),
        allowed_hosts=settings.ALLOWED_HOSTS,
        trusted=settings.CSRF_TRUSTED_ORIGINS,
    )
