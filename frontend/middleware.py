"""The site's own 404 and 500 pages in every mode.

Without DEBUG, Django renders `404.html` and `500.html` (frontend/templates) itself. With
DEBUG (`make run`), it answers with its technical pages instead; this middleware puts the
site's pages in their place, so a visitor of a demo run with DEBUG sees the product, not a
stack of settings. The details are not lost: Django logs every 404 and every traceback to the
console. Set DEBUG_ERROR_PAGES=1 to see Django's technical pages in the browser.
"""

from collections.abc import Awaitable, Callable
from typing import cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

# Both of Django's technical pages say this; the site's own pages do not.
TECHNICAL_PAGE_MARK = b'<meta name="robots" content="NONE,NOARCHIVE">'
REPLACED = {404: "404.html", 500: "500.html"}
GetResponse = Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]


def is_technical_page(response: HttpResponse) -> bool:
    return (
        response.status_code in REPLACED
        and response.get("Content-Type", "").startswith("text/html")
        and not getattr(response, "streaming", False)
        and TECHNICAL_PAGE_MARK in response.content
    )


class ProductErrorPagesMiddleware:
    # Async under ASGI: a sync-only middleware would put every request in a thread.
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self.__acall__(request)
        return product_page(cast(HttpResponse, self.get_response(request)))

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        return product_page(await cast(Awaitable[HttpResponse], self.get_response(request)))


def product_page(response: HttpResponse) -> HttpResponse:
    if not settings.DEBUG or settings.DEBUG_ERROR_PAGES or not is_technical_page(response):
        return response
    status = response.status_code
    return HttpResponse(render_to_string(REPLACED[status]), status=status)
