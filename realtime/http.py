import ipaddress

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class AuthedHttpRequest(HttpRequest):
    """The request a view behind @login_required receives (HtmxMiddleware adds .htmx)."""

    user: User
    htmx: HtmxDetails


def client_address(request: HttpRequest) -> str | None:
    """The address the request came from, as the server saw it (behind a proxy, what its
    --proxy-headers took from X-Forwarded-For). Only an IP address: the header is whatever
    the client or a proxy wrote, and the columns that keep addresses (PostgreSQL's inet)
    refuse anything else."""
    raw = request.META.get("REMOTE_ADDR")
    try:
        address = ipaddress.ip_address(raw) if raw else None
    except ValueError:
        return None
    # A scoped IPv6 address (fe80::1%eth0) is no inet value either.
    if address is None or getattr(address, "scope_id", None):
        return None
    return str(address)
