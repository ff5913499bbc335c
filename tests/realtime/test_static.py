import logging

import pytest
from asgiref.sync import iscoroutinefunction
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.test import AsyncRequestFactory, RequestFactory
from whitenoise.middleware import WhiteNoiseMiddleware  # type: ignore[import-untyped]

from realtime import static


def test_the_locked_whitenoise_has_what_the_middleware_reads():
    assert static.mismatches() == []
    assert static.StaticFilesMiddleware is static.AsyncWhiteNoiseMiddleware


@pytest.mark.parametrize(
    ("version", "missing", "reason"),
    [
        ("7.0.0", None, "whitenoise 7.0.0, not 6.12.0"),
        ("6.12.0", "serve", "no serve(static_file, request)"),
    ],
)
def test_on_a_mismatch_whitenoise_s_own_middleware_is_used(
    monkeypatch, caplog, version, missing, reason
):
    monkeypatch.setattr(static, "version", lambda name: version)
    if missing:
        # A release whose method took other parameters.
        monkeypatch.setattr(WhiteNoiseMiddleware, missing, staticmethod(lambda environ: None))
    with caplog.at_level(logging.ERROR, logger="realtime.static"):
        chosen = static.static_files_middleware()
    assert chosen is WhiteNoiseMiddleware
    assert [r.getMessage() for r in caplog.records] == [
        f"Serving static files with WhiteNoise's own (sync) middleware: {reason}"
    ]


@pytest.mark.asyncio
async def test_under_asgi_it_serves_static_files_and_passes_the_rest_on_the_loop():
    async def view(request):
        return HttpResponse("the page")

    middleware = static.AsyncWhiteNoiseMiddleware(view)
    assert iscoroutinefunction(middleware)
    factory = AsyncRequestFactory()
    served = await middleware.__acall__(factory.get("/static/frontend/app.css"))
    assert served.status_code == 200
    assert served["Content-Type"].startswith("text/css")
    assert isinstance(served, FileResponse)
    served.file_to_stream.close()  # (close() would also end the request)
    page = await middleware.__acall__(factory.get("/"))
    assert page.content == b"the page"


def test_under_wsgi_it_is_whitenoise():
    middleware = static.AsyncWhiteNoiseMiddleware(lambda request: HttpResponse("the page"))
    assert not iscoroutinefunction(middleware)
    served = middleware(RequestFactory().get("/static/frontend/app.css"))
    page = middleware(RequestFactory().get("/"))
    assert isinstance(served, HttpResponseBase)
    assert isinstance(page, HttpResponse)
    assert served.status_code == 200
    assert isinstance(served, FileResponse)
    served.file_to_stream.close()  # (close() would also end the request)
    assert page.content == b"the page"
