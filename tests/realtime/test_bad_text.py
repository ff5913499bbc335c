"""The one place that refuses text no field may hold (realtime.middleware.BadTextMiddleware),
through Django's test client. The same refusals against real Daphne and PostgreSQL, where
they would otherwise be psycopg DataErrors: integration/test_bad_text_topology.py."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chat.models import Room

NUL_REASON = "contains a NUL character (\\0), which text here cannot hold."


@pytest.fixture
def signed_in(client, ada):
    client.force_login(ada)
    return client


def test_a_nul_in_the_query_is_a_400_that_says_where(signed_in):
    response = signed_in.get("/search/", {"q": "a\x00b"})

    assert response.status_code == 400
    page = response.content.decode()
    assert f"The query string field “q” {NUL_REASON}" in page
    assert "/static/frontend/app.css" in page


def test_a_nul_in_a_form_field_is_refused_before_the_view(signed_in, db):
    response = signed_in.post("/rooms/new/", {"name": "Tea\x00room"})

    assert response.status_code == 400
    assert f"The form field “name” {NUL_REASON}" in response.content.decode()
    assert not Room.objects.exists()


def test_a_nul_in_a_multipart_field_is_refused(signed_in, room):
    image = SimpleUploadedFile("cat.png", b"not read", content_type="image/png")
    response = signed_in.post("/rooms/general/attachments/", {"caption": "\x00", "image": image})

    assert response.status_code == 400
    assert f"The form field “caption” {NUL_REASON}" in response.content.decode()


def test_a_lone_surrogate_in_a_json_body_is_refused(signed_in, room):
    response = signed_in.post(
        "/rooms/new/", json.dumps({"name": "\ud800"}), content_type="application/json"
    )

    assert response.status_code == 400
    assert "A string in the JSON body contains an unpaired surrogate" in response.content.decode()


def test_a_nul_in_the_path_is_refused(signed_in):
    response = signed_in.get("/people/a%00b/")

    assert response.status_code == 400
    assert f"The address {NUL_REASON}" in response.content.decode()


def test_a_nul_in_a_header_is_refused(signed_in):
    response = signed_in.get("/", headers={"Referer": "http://testserver/\x00"})

    assert response.status_code == 400
    assert f"The Referer header {NUL_REASON}" in response.content.decode()


def test_htmx_requests_get_the_error_line(signed_in):
    response = signed_in.get("/search/", {"q": "\x00"}, headers={"HX-Request": "true"})

    assert response.status_code == 400
    assert response["HX-Retarget"] == "#socket-error"
    html = response.content.decode()
    assert html.startswith('<p id="socket-error" class="flash flash-error" role="alert">')
    assert f"The query string field “q” {NUL_REASON}" in html


def test_a_session_cookie_holding_a_nul_is_no_session_and_is_expired(client, db):
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"

    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert "Sign in" in response.content.decode()
    expired = response.cookies["sessionid"]
    assert expired.value == ""
    assert expired["max-age"] == 0


def test_a_person_with_a_planted_cookie_can_still_sign_in(client, ada):
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"

    response = client.post("/accounts/login/", {"username": "ada", "password": "pw-for-tests-only"})

    assert response.status_code == 302
    assert response.cookies["sessionid"].value not in ("", "abcdefgh\x00ijklmnop")
    assert client.get("/").status_code == 200


def test_good_text_passes_untouched(signed_in, room):
    response = signed_in.get("/search/", {"q": "café 🎉 עברית"})

    assert response.status_code == 200
