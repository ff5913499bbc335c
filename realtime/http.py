from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class AuthedHttpRequest(HttpRequest):
    """The request a view behind @login_required receives (HtmxMiddleware adds .htmx)."""

    user: User
    htmx: HtmxDetails
