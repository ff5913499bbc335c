import pytest
from django.contrib.auth import get_user_model

from accounts.models import Block
from chat.models import Membership, Message, Room


def test_sign_up_signs_in_and_lands_in_chat(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "hedy",
            "password1": "frequency-hopping-42",
            "password2": "frequency-hopping-42",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert get_user_model().objects.filter(username="hedy").exists()


def test_sign_up_errors_are_shown_next_to_labelled_fields(client, db):
    response = client.post(
        "/accounts/signup/", {"username": "hedy", "password1": "a", "password2": "b"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_username">Username</label>' in html
    assert "The two password fields didn’t match." in html


def test_sign_in_page_has_labels_and_demo_help(client, db, settings):
    settings.DEBUG = True  # `make run`, where the demo accounts are loaded
    html = client.get("/accounts/login/").content.decode()
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert "relay-demo-pass" in html


def test_the_production_sign_in_page_does_not_show_the_demo_password(client, db, settings):
    settings.DEBUG = False
    response = client.get("/accounts/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_password">Password</label>' in html
    assert "relay-demo-pass" not in html
    assert "Demo accounts" not in html


def test_sign_in_and_out(client, ada):
    response = client.post("/accounts/login/", {"username": "ada", "password": "pw-for-tests-only"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_signed_in_user_visiting_sign_up_goes_to_chat(client, ada):
    client.force_login(ada)
    assert client.get("/accounts/signup/")["Location"] == "/"


# The profile is an async view whose reads run concurrently, each in a thread with its own
# database connection: its tests need committed data.
async_view = pytest.mark.django_db(transaction=True)


@async_view
def test_profile_shows_counts_and_rooms_the_viewer_may_read(client, ada, grace, room):
    secret = Room.objects.create(name="Secret", slug="secret", kind=Room.Kind.PRIVATE)
    Membership.objects.create(room=secret, user=ada)
    Message.objects.create(room=room, author=ada, body="public")
    Message.objects.create(room=secret, author=ada, body="private")
    client.force_login(grace)
    html = client.get("/people/ada/").content.decode()
    assert "<dt>Messages</dt><dd>1</dd>" in html
    assert "#General" in html
    assert "Secret" not in html  # nothing about rooms grace cannot read
    assert 'action="/direct/ada/"' in html
    assert 'action="/people/ada/block/"' in html


@async_view
def test_blocking_and_unblocking_from_the_profile(client, ada, grace):
    client.force_login(ada)
    assert client.post("/people/grace/block/")["Location"] == "/people/grace/"
    assert Block.objects.filter(blocker=ada, blocked=grace).exists()
    html = client.get("/people/grace/").content.decode()
    assert "You blocked grace" in html
    assert 'action="/people/grace/unblock/"' in html
    client.post("/people/grace/unblock/")
    assert not Block.objects.exists()


@async_view
def test_someone_who_blocked_you_has_no_profile_for_you(client, ada, grace):
    Block.objects.create(blocker=grace, blocked=ada)
    client.force_login(ada)
    assert client.get("/people/grace/").status_code == 404
    assert client.get("/people/nobody/").status_code == 404


@async_view
def test_blocking_oneself_is_refused(client, ada):
    client.force_login(ada)
    response = client.post("/people/ada/block/")
    assert response.status_code == 400
    assert "You cannot block yourself." in response.content.decode()
    assert "Block" not in client.get("/people/ada/").content.decode().split("<dl")[1]
