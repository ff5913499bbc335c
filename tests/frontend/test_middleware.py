import pytest
from django.test import Client
from django.urls import path

from realtime.urls import urlpatterns as site_urls


def broken(request):
    raise RuntimeError("broken on purpose")


urlpatterns = [*site_urls, path("broken/", broken)]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.mark.parametrize("debug", [False, True])
def test_a_missing_page_is_the_sites_own_404(client, settings, debug):
    settings.DEBUG = debug

    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "<h1>Nothing here</h1>" in response.content.decode()
    assert "NONE,NOARCHIVE" not in response.content.decode()


@pytest.mark.parametrize("debug", [False, True])
def test_a_failing_view_is_the_sites_own_500(settings, debug):
    settings.DEBUG = debug

    response = Client(raise_request_exception=False).get("/broken/")

    assert response.status_code == 500
    assert "<h1>Something went wrong on our side</h1>" in response.content.decode()
    assert "broken on purpose" not in response.content.decode()


def test_debug_error_pages_shows_djangos_technical_404(client, settings):
    settings.DEBUG = True
    settings.DEBUG_ERROR_PAGES = True

    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "NONE,NOARCHIVE" in response.content.decode()
