"""Answers a request the database could not serve with a clear 503 page instead of a 500."""

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
UNAVAILABLE_TEMPLATE = "frontend/unavailable.html"


class DatabaseUnavailableMiddleware:
    """A view that fails because the database is unreachable gets `frontend/unavailable.html`
    with status 503 and Retry-After; an htmx request gets the page's error line instead."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error("Database unavailable for %s %s", request.method, request.path, exc_info=True)
        return unavailable_response(request)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    # Rendered without the request: its context processors (the signed-in user, the
    # notification bell) would need the database that just failed.
    context = {"csp_nonce": get_nonce(request), "retry_path": request.get_full_path()}
    if request.headers.get("HX-Request") == "true":
        html = render_to_string(f"{UNAVAILABLE_TEMPLATE}#notice", context)
        response = HttpResponse(html, status=503)
        response["HX-Retarget"] = "#socket-error"
        response["HX-Reswap"] = "outerHTML"
    else:
        response = HttpResponse(render_to_string(UNAVAILABLE_TEMPLATE, context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
