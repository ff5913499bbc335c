"""Requests that would otherwise end in a 500: text no field may hold is a 400 with the reason
(BadTextMiddleware), and a database that cannot be reached is a 503 page
(DatabaseUnavailableMiddleware).

Both run as the server runs them (async under ASGI, sync under WSGI and the test client): a
sync-only middleware under ASGI puts the rest of the request in a thread that waits on the
event loop, a hop per request and a thread stuck if the loop stops first (SIGTERM).
"""

import logging
from collections.abc import Awaitable, Callable
from typing import cast
from urllib.parse import unquote_to_bytes

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.template.loader import render_to_string

from realtime import text

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
UNAVAILABLE_TEMPLATE = "frontend/unavailable.html"


GetResponse = Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]


class EitherModeMiddleware:
    """A middleware that runs as the server runs it: `handle` under WSGI (and Django's test
    client), `ahandle` under ASGI. By default both only pass the request on."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        return self.ahandle(request) if self.is_async else self.handle(request)

    def handle(self, request: HttpRequest) -> HttpResponse:
        return cast(HttpResponse, self.get_response(request))

    async def ahandle(self, request: HttpRequest) -> HttpResponse:
        return await cast(Awaitable[HttpResponse], self.get_response(request))


class DatabaseUnavailableMiddleware(EitherModeMiddleware):
    """A view that fails because the database is unreachable gets `frontend/unavailable.html`
    with status 503 and Retry-After; an htmx request gets the page's error line instead.
    (Only the process_exception hook does anything; Django calls it in either mode.)"""

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


BAD_REQUEST_TEMPLATE = "frontend/bad_request.html"


class BadTextMiddleware(EitherModeMiddleware):
    """The one place that refuses NUL characters, unpaired surrogates and bytes that are not
    UTF-8 (realtime.text), before any view, form or query sees them: in the path, the query
    string, the headers and the body (url-encoded, multipart or JSON), with a 400 that says
    which field was wrong.

    A cookie holding such text is dropped instead, as if it had not been sent, and expired in
    the answer: a planted session cookie must not lock its victim out of every page, the
    sign-in page included."""

    def handle(self, request: HttpRequest) -> HttpResponse:
        refusal = request_refusal(request)
        if refusal:
            return bad_request_response(request, refusal)
        dropped = drop_bad_cookies(request)
        return with_cookies_expired(super().handle(request), dropped)

    async def ahandle(self, request: HttpRequest) -> HttpResponse:
        # Reading a form or JSON body (multipart is parsed from its spooled file) blocks: in a
        # thread, as the view's own reading would be. A request without one stays on the loop.
        content_type = request.content_type or ""
        has_body = content_type in BODY_TYPES or content_type.endswith("+json")
        if has_body:
            refusal = await sync_to_async(request_refusal)(request)
        else:
            refusal = request_refusal(request)
        if refusal:
            return bad_request_response(request, refusal)
        dropped = drop_bad_cookies(request)
        return with_cookies_expired(await super().ahandle(request), dropped)


BODY_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "application/json")


def with_cookies_expired(response: HttpResponse, dropped: list[str]) -> HttpResponse:
    for name in dropped:
        if name not in response.cookies:  # signing in sets a new session cookie
            expire_cookie(response, name)
    return response


def request_refusal(request: HttpRequest) -> str | None:
    return (
        path_refusal(request)
        or text.form_refusal(query_bytes(request), where="query string")
        or header_refusal(request)
        or body_refusal(request)
    )


def path_refusal(request: HttpRequest) -> str | None:
    scope = getattr(request, "scope", None)
    raw_path = scope.get("raw_path") if isinstance(scope, dict) else None
    if isinstance(raw_path, bytes):
        return text.bytes_refusal(unquote_to_bytes(raw_path), where="The address")
    return text.text_refusal(request.path, where="The address")


def query_bytes(request: HttpRequest) -> bytes:
    scope = getattr(request, "scope", None)
    raw = scope.get("query_string") if isinstance(scope, dict) else None
    if isinstance(raw, bytes):
        return raw
    # WSGI gives the bytes as a latin-1 string (PEP 3333).
    return str(request.META.get("QUERY_STRING", "")).encode("latin-1", "replace")


def header_refusal(request: HttpRequest) -> str | None:
    for key, value in request.META.items():
        if key.startswith("HTTP_") and key != "HTTP_COOKIE" and isinstance(value, str):
            name = key.removeprefix("HTTP_").replace("_", "-").title()
            refusal = text.text_refusal(value, where=f"The {name} header")
            if refusal:
                return refusal
    return None


def body_refusal(request: HttpRequest) -> str | None:
    content_type = request.content_type or ""
    if content_type == "application/x-www-form-urlencoded":
        return text.form_refusal(request.body, where="form")
    if content_type == "multipart/form-data":
        # Django decodes the fields (bad UTF-8 becomes U+FFFD) and cleans file names itself.
        fields = [(name, value) for name, values in request.POST.lists() for value in values]
        return text.fields_refusal(fields, where="form")
    if content_type == "application/json" or content_type.endswith("+json"):
        return text.json_refusal(request.body, where="JSON body")
    return None


def drop_bad_cookies(request: HttpRequest) -> list[str]:
    dropped = [
        name
        for name, value in request.COOKIES.items()
        if text.is_bad_text(name) or text.is_bad_text(value)
    ]
    for name in dropped:
        del request.COOKIES[name]
    return dropped


def expire_cookie(response: HttpResponse, name: str) -> None:
    if name == settings.SESSION_COOKIE_NAME:
        response.delete_cookie(
            name,
            path=settings.SESSION_COOKIE_PATH,
            domain=settings.SESSION_COOKIE_DOMAIN,
        )
    else:
        response.delete_cookie(name)


def bad_request_response(request: HttpRequest, refusal: str) -> HttpResponse:
    # Rendered without the request: nothing of it (session, user) has been read, nor should be.
    context = {"refusal": refusal}
    if request.headers.get("HX-Request") == "true":
        html = render_to_string(f"{BAD_REQUEST_TEMPLATE}#notice", context)
        response = HttpResponse(html, status=400)
        response["HX-Retarget"] = "#socket-error"
        response["HX-Reswap"] = "outerHTML"
        return response
    return HttpResponse(render_to_string(BAD_REQUEST_TEMPLATE, context), status=400)
