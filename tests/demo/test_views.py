"""Guest sign-in and the hourly limits, over HTTP, as a stranger meets them."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from chat.models import Message, Room
from demo.models import Guest, Use


@pytest.fixture
def demo_mode(settings, db):
    settings.DEMO_MODE = True
    settings.DEMO_LIMITS = {"signup": (None, 2), "room": (2, 3), "upload": (1, 3)}


def test_the_guest_button_shows_only_in_demo_mode_and_hides_the_demo_passwords(
    client, db, settings
):
    settings.DEBUG = True
    assert "Continue as a guest" not in client.get("/accounts/login/").content.decode()
    settings.DEMO_MODE = True
    html = client.get("/accounts/login/").content.decode()
    assert "Continue as a guest" in html
    assert 'action="/demo/guest/"' in html
    assert "relay-demo-pass" not in html


def test_there_is_no_guest_sign_in_outside_demo_mode(client, db):
    assert client.post("/demo/guest/").status_code == 404
    assert not User.objects.exists()


def test_one_click_makes_a_named_guest_without_a_password_and_signs_them_in(client, demo_mode):
    response = client.post("/demo/guest/", REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 302
    assert response["Location"] == "/"
    [guest] = Guest.objects.select_related("user")
    assert guest.address == "203.0.113.7"
    assert guest.user.username.startswith("Guest-")
    assert guest.user.has_usable_password() is False
    html = client.get("/").content.decode()
    assert f'Signed in as <a href="/people/{guest.user.username}/">' in html


def test_guest_sign_ins_are_limited_per_address(client, demo_mode):
    for _ in range(2):
        assert client.post("/demo/guest/", REMOTE_ADDR="203.0.113.7").status_code == 302
        client.logout()
    refused = client.post("/demo/guest/", REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429
    assert "your network has had them" in refused.content.decode()
    assert Guest.objects.count() == 2
    # Another address still may; an hour later this one may again.
    assert client.post("/demo/guest/", REMOTE_ADDR="198.51.100.1").status_code == 302
    client.logout()
    Use.objects.update(created_at=timezone.now() - timedelta(hours=1, seconds=1))
    assert client.post("/demo/guest/", REMOTE_ADDR="203.0.113.7").status_code == 302


def test_sign_ups_count_against_the_same_address_limit(client, demo_mode):
    for n in range(2):
        response = client.post(
            "/accounts/signup/",
            {
                "username": f"new{n}",
                "password1": "a-long-pass-4-tests",
                "password2": "a-long-pass-4-tests",
            },
            REMOTE_ADDR="203.0.113.9",
        )
        assert response.status_code == 302
        client.logout()
    refused = client.post(
        "/accounts/signup/",
        {
            "username": "new2",
            "password1": "a-long-pass-4-tests",
            "password2": "a-long-pass-4-tests",
        },
        REMOTE_ADDR="203.0.113.9",
    )
    assert refused.status_code == 429
    assert not User.objects.filter(username="new2").exists()


def test_rooms_are_limited_per_account_and_per_address(client, demo_mode, ada, grace):
    client.force_login(ada)
    for n in range(2):
        assert (
            client.post("/rooms/new/", {"name": f"Mine {n}"}, REMOTE_ADDR="203.0.113.1").status_code
            == 302
        )
    refused = client.post("/rooms/new/", {"name": "Mine 2"}, REMOTE_ADDR="203.0.113.1")
    assert refused.status_code == 422
    assert "this account has had them" in refused.content.decode()
    # grace, on the same network: one more fits the address's three, then no more.
    client.force_login(grace)
    assert (
        client.post("/rooms/new/", {"name": "Hers"}, REMOTE_ADDR="203.0.113.1").status_code == 302
    )
    refused = client.post("/rooms/new/", {"name": "Hers 2"}, REMOTE_ADDR="203.0.113.1")
    assert "your network has had them" in refused.content.decode()
    assert Room.objects.count() == 3


def test_a_refused_room_does_not_use_up_the_limit(client, demo_mode, ada, room):
    client.force_login(ada)
    assert client.post("/rooms/new/", {"name": "General"}).status_code == 422  # taken
    assert Use.objects.count() == 0


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return SimpleUploadedFile("red.png", buffer.getvalue(), content_type="image/png")


def test_uploads_are_limited_per_account(client, demo_mode, ada, room):
    client.force_login(ada)
    assert client.post("/rooms/general/attachments/", {"image": png()}).status_code == 302
    response = client.post("/rooms/general/attachments/", {"image": png()}, follow=True)
    assert "uploads per hour" in response.content.decode()
    assert Message.objects.count() == 1


def test_outside_demo_mode_nothing_is_limited_or_recorded(client, ada, settings):
    settings.DEMO_LIMITS = {"signup": (None, 0), "room": (0, 0), "upload": (0, 0)}
    client.force_login(ada)
    assert client.post("/rooms/new/", {"name": "Free"}).status_code == 302
    assert Use.objects.count() == 0


# What the server took from X-Forwarded-For can be anything a client or a proxy wrote; an
# address column (PostgreSQL's inet) refuses what is not an IP address, so that was a 500.
@pytest.mark.parametrize("forwarded", ["unknown", "203.0.113.7, 198.51.100.1", "203.0.113.999"])
def test_an_address_that_is_no_ip_address_counts_as_none(client, demo_mode, forwarded):
    assert client.post("/demo/guest/", REMOTE_ADDR=forwarded).status_code == 302
    assert list(Use.objects.values_list("address", flat=True)) == [None]
    assert Guest.objects.get().address is None
