"""The site's own 404 and 500 pages in every mode.

Without DEBUG, Django renders `404.html` and `500.html` (frontend/templates) itself. With
DEBUG (`make run`), it answers with its technical pages instead; this middleware puts the
site's pages in their place, so a visitor of a demo run with DEBUG sees the product, not a
stack of settings. The details are not lost: Django logs every 404 and every traceback to the
console. Set DEBUG_ERROR_PAGES=1 to see Django's technical pages in the browser.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from realtime.middleware import EitherModeMiddleware

# Both of Django's technical pages say this; the site's own pages do not.
TECHNICAL_PAGE_MARK = b'<meta name="robots" content="NONE,NOARCHIVE">'
REPLACED = {404: "404.html", 500: "500.html"}


def is_technical_page(response: HttpResponse) -> bool:
    return (
        response.status_code in REPLACED
        and response.get("Content-Type", "").startswith("text/html")
        and not getattr(response, "streaming", False)
        and TECHNICAL_PAGE_MARK in response.content
    )


class ProductErrorPagesMiddleware(EitherModeMiddleware):
    def handle(self, request: HttpRequest) -> HttpResponse:
        return product_page(super().handle(request))

    async def ahandle(self, request: HttpRequest) -> HttpResponse:
        return product_page(await super().ahandle(request))


def product_page(response: HttpResponse) -> HttpResponse:
    if not settings.DEBUG or settings.DEBUG_ERROR_PAGES or not is_technical_page(response):
        return response
    status = response.status_code
    return HttpResponse(render_to_string(REPLACED[status]), status=status)
