from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class AuthedHttpRequest(HttpRequest):
    """The request a view behind @login_required receives (HtmxMiddleware adds .htmx)."""

    user: User
    htmx: HtmxDetails


def client_address(request: HttpRequest) -> str | None:
    """The address the request came from, as the server saw it (behind a proxy, what its
    --proxy-headers took from X-Forwarded-For)."""
    return request.META.get("REMOTE_ADDR") or None
