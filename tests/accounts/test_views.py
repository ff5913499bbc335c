from django.contrib.auth import get_user_model


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


def test_sign_in_page_has_labels_and_demo_help(client, db):
    html = client.get("/accounts/login/").content.decode()
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert "relay-demo-pass" in html


def test_sign_in_and_out(client, ada):
    response = client.post("/accounts/login/", {"username": "ada", "password": "pw-for-tests-only"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_signed_in_user_visiting_sign_up_goes_to_chat(client, ada):
    client.force_login(ada)
    assert client.get("/accounts/signup/")["Location"] == "/"
