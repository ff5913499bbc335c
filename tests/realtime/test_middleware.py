import pytest
from django.db import ProgrammingError

pytestmark = pytest.mark.urls("tests.realtime.urls_failing")


def test_an_unreachable_database_answers_a_503_page(client):
    response = client.get("/unreachable/?page=2")

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    page = response.content.decode()
    assert "<h1>Relay is briefly unavailable</h1>" in page
    assert 'href="/unreachable/?page=2"' in page  # try again where the person was
    assert "/static/frontend/app.css" in page  # the product's own look
    # Rendered without the request's context: no account links that need the database.
    assert "Sign in" not in page
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in page


def test_an_htmx_request_gets_the_error_line(client):
    response = client.get("/unreachable/", headers={"HX-Request": "true"})

    assert response.status_code == 503
    assert response["HX-Retarget"] == "#socket-error"
    assert response["HX-Reswap"] == "outerHTML"
    assert response.content.decode().startswith('<p id="socket-error" class="flash flash-error"')
    assert "briefly unavailable" in response.content.decode()


def test_other_database_errors_are_not_disguised(client):
    with pytest.raises(ProgrammingError):
        client.get("/broken/")
