"""Views of private rooms, invitations and messages: a room or message someone may not read
answers exactly like a missing one."""

import pytest

from accounts.models import Block
from chat.models import Invitation, Membership, Message, MessageChange, Room
from notifications.models import Notification
from tests.chat.conftest import as_user


@pytest.mark.parametrize(
    "url",
    [
        "/rooms/secret/",
        "/rooms/secret/?around=1",
        "/rooms/secret/older/?before=100",
        "/rooms/secret/newer/?after=1&until=100",
    ],
)
def test_a_private_room_is_a_404_to_outsiders_like_a_missing_room(client, linus, secret, url):
    as_user(client, linus)
    hidden = client.get(url)
    missing = client.get(url.replace("secret", "no-such-room"))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


@pytest.mark.parametrize("action", ["invite", "leave"])
def test_outsiders_cannot_post_to_a_private_room(client, linus, secret, action):
    as_user(client, linus)
    assert client.post(f"/rooms/secret/{action}/", {"username": "linus"}).status_code == 404
    assert not Invitation.objects.exists()


def test_members_see_the_room_its_members_and_the_invite_form(client, ada, grace, secret):
    html = as_user(client, grace).get("/rooms/secret/").content.decode()
    assert 'ws-connect="/ws/?room=secret&amp;path=%2Frooms%2Fsecret%2F"' in html
    assert "Members (2)" in html
    assert 'id="invite-form"' in html
    assert 'action="/direct/ada/"' in html  # a direct message from the member list
    assert "/members/ada/remove/" not in html  # only the creator removes people


def test_private_rooms_stay_out_of_other_sidebars(client, grace, linus, secret, room):
    assert "Secret" in as_user(client, grace).get("/").content.decode()
    assert "Secret" not in as_user(client, linus).get("/").content.decode()


def test_creating_a_private_room(client, ada):
    response = as_user(client, ada).post("/rooms/new/", {"name": "Plans", "private": "1"})
    assert response.status_code == 302
    created = Room.objects.get(slug="plans")
    assert created.kind == Room.Kind.PRIVATE
    assert list(created.members.all()) == [ada]


def test_inviting_through_the_form(client, ada, linus, secret):
    response = as_user(client, ada).post(
        "/rooms/secret/invite/", {"username": "linus"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "Invited linus." in response.content.decode()
    assert Invitation.objects.get().invitee == linus
    assert Notification.objects.get().recipient == linus


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "Type the name"),
        ("nobody", "No one is called “nobody”."),
        ("grace", "already a member"),
    ],
)
def test_refused_invitations_keep_the_name_and_say_why(client, ada, grace, secret, name, error):
    response = as_user(client, ada).post(
        "/rooms/secret/invite/", {"username": name}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert error in html
    assert f'value="{name}"' in html
    assert not Invitation.objects.exists()


def test_an_invitation_is_accepted_from_its_page(client, ada, linus, secret):
    invitation = Invitation.objects.create(room=secret, invitee=linus, invited_by=ada)
    as_user(client, linus)
    page = client.get(f"/invitations/{invitation.id}/").content.decode()
    assert "invited you to the private room #Secret" in page
    assert "invited you to #Secret" in client.get("/").content.decode()
    response = client.post(f"/invitations/{invitation.id}/accept/")
    assert response["Location"] == "/rooms/secret/"
    assert client.get("/rooms/secret/").status_code == 200


def test_declining(client, ada, linus, secret):
    invitation = Invitation.objects.create(room=secret, invitee=linus, invited_by=ada)
    as_user(client, linus).post(f"/invitations/{invitation.id}/decline/")
    assert not Invitation.objects.exists()
    assert client.get("/rooms/secret/").status_code == 404


def test_someone_elses_invitation_is_a_404(client, ada, grace, linus, secret):
    invitation = Invitation.objects.create(room=secret, invitee=linus, invited_by=ada)
    as_user(client, grace)
    assert client.get(f"/invitations/{invitation.id}/").status_code == 404
    assert client.post(f"/invitations/{invitation.id}/accept/").status_code == 404
    assert Invitation.objects.exists()


def test_leaving_and_being_removed(client, ada, grace, linus, secret):
    Membership.objects.create(room=secret, user=linus)
    assert as_user(client, grace).post("/rooms/secret/leave/")["Location"] == "/"
    assert client.get("/rooms/secret/").status_code == 404
    as_user(client, ada).post("/rooms/secret/members/linus/remove/")
    assert list(secret.members.all()) == [ada]


def test_a_member_cannot_remove_another(client, ada, grace, secret):
    response = as_user(client, grace).post("/rooms/secret/members/ada/remove/")
    assert response.status_code == 403
    assert ada in secret.members.all()


def test_a_direct_message_from_a_profile(client, ada, grace):
    response = as_user(client, ada).post("/direct/grace/")
    conversation = Room.objects.get(kind=Room.Kind.DIRECT)
    assert response["Location"] == f"/rooms/{conversation.slug}/"
    html = client.get(response["Location"]).content.decode()
    assert '<h1 id="room-title">@grace</h1>' in html
    assert 'placeholder="Message @grace"' in html


def test_a_direct_message_to_someone_who_blocked_you_is_refused(client, ada, grace):
    Block.objects.create(blocker=grace, blocked=ada)
    response = as_user(client, ada).post("/direct/grace/")
    assert response.status_code == 403
    assert "You cannot send direct messages to grace." in response.content.decode()
    assert not Room.objects.exists()


def test_a_direct_message_to_nobody_is_a_404(client, ada):
    assert as_user(client, ada).post("/direct/nobody/").status_code == 404


def test_a_direct_conversation_is_private_to_its_two_people(client, ada, grace, linus):
    as_user(client, ada).post("/direct/grace/")
    conversation = Room.objects.get()
    assert as_user(client, linus).get(f"/rooms/{conversation.slug}/").status_code == 404


def test_history_leaves_out_people_you_blocked(client, ada, grace, room):
    Message.objects.create(room=room, author=grace, body="from grace")
    Message.objects.create(room=room, author=ada, body="from ada")
    Block.objects.create(blocker=ada, blocked=grace)
    html = as_user(client, ada).get("/rooms/general/").content.decode()
    assert "from grace" not in html
    assert "from ada" in html
    # ... and the page's style hides any that arrive live.
    assert f'.message[data-author="{grace.pk}"]{{display:none}}' in html


def test_a_message_by_someone_you_blocked_is_a_404_like_a_missing_one(client, ada, grace, room):
    blocked = Message.objects.create(room=room, author=grace, body="from grace")
    own = Message.objects.create(room=room, author=ada, body="from ada")
    Block.objects.create(blocker=ada, blocked=grace)
    as_user(client, ada)

    response = client.get(f"/messages/{blocked.id}/")
    missing = client.get(f"/messages/{own.id + 100}/")
    assert (response.status_code, missing.status_code) == (404, 404)
    assert "from grace" not in response.content.decode()
    assert response.content == missing.content
    assert "from ada" in client.get(f"/messages/{own.id}/").content.decode()
    # Grace, who did not block anyone, still sees it.
    assert "from grace" in as_user(client, grace).get(f"/messages/{blocked.id}/").content.decode()


def test_edit_form_save_and_cancel(client, ada, room):
    message = Message.objects.create(room=room, author=ada, body="helo")
    as_user(client, ada)
    form = client.get(f"/messages/{message.id}/edit/").content.decode()
    assert ">helo</textarea>" in form
    saved = client.post(f"/messages/{message.id}/edit/", {"body": " hello "})
    assert saved.status_code == 200
    assert '<div class="body" dir="auto">hello</div>' in saved.content.decode()
    assert "(edited)" in saved.content.decode()
    assert Message.objects.get().body == "hello"
    assert "(edited)" in client.get(f"/messages/{message.id}/").content.decode()


@pytest.mark.parametrize(
    ("body", "error"), [("  ", "Type a message first."), ("x" * 4001, "limit")]
)
def test_a_refused_edit_keeps_the_text(client, ada, room, body, error):
    message = Message.objects.create(room=room, author=ada, body="original")
    response = as_user(client, ada).post(f"/messages/{message.id}/edit/", {"body": body})
    assert response.status_code == 422
    assert error in response.content.decode()
    assert body.strip() in response.content.decode()
    assert Message.objects.get().body == "original"
    assert not MessageChange.objects.exists()


def test_someone_elses_message_cannot_be_edited(client, ada, grace, room):
    message = Message.objects.create(room=room, author=ada, body="mine")
    as_user(client, grace)
    assert client.get(f"/messages/{message.id}/edit/").status_code == 403
    assert client.post(f"/messages/{message.id}/edit/", {"body": "x"}).status_code == 403
    assert client.post(f"/messages/{message.id}/delete/").status_code == 403
    assert Message.objects.get().body == "mine"


def test_deleting_ones_own(client, ada, room):
    message = Message.objects.create(room=room, author=ada, body="oops")
    response = as_user(client, ada).post(f"/messages/{message.id}/delete/")
    assert "This message was deleted." in response.content.decode()
    assert "This message was deleted." in client.get("/rooms/general/").content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    "path", ["/messages/{id}/", "/messages/{id}/edit/", "/messages/{id}/delete/"]
)
def test_a_message_in_a_private_room_is_a_404_to_outsiders(
    client, ada, linus, secret, method, path
):
    message = Message.objects.create(room=secret, author=ada, body="psst")
    as_user(client, linus)
    response = getattr(client, method)(path.format(id=message.id))
    missing = getattr(client, method)(path.format(id=message.id + 1000))
    assert response.status_code == missing.status_code
    assert response.status_code in (404, 405)
    assert Message.objects.get().body == "psst"


def test_search_shows_outsiders_nothing_of_a_private_room(client, ada, grace, linus, secret, room):
    hidden = Message.objects.create(room=secret, author=ada, body="the clandestine plan")
    shown = Message.objects.create(room=room, author=ada, body="the public plan")
    as_user(client, linus)
    html = client.get("/search/?q=plan").content.decode()
    assert f"?around={shown.id}" in html
    assert f"?around={hidden.id}" not in html
    assert "clandestine" not in html
    as_user(client, grace)
    assert f"?around={hidden.id}" in client.get("/search/?q=plan").content.decode()


def test_search_leaves_out_people_you_blocked(client, ada, grace, room):
    Message.objects.create(room=room, author=grace, body="grace on tea")
    Message.objects.create(room=room, author=ada, body="ada on tea")
    Block.objects.create(blocker=ada, blocked=grace)
    html = as_user(client, ada).get("/search/?q=tea").content.decode()
    assert "ada on <mark>tea</mark>" in html
    assert "grace on" not in html


def test_a_message_by_someone_you_blocked_is_not_an_anchor(client, ada, grace, room):
    theirs = Message.objects.create(room=room, author=grace, body="hidden")
    Block.objects.create(blocker=ada, blocked=grace)
    html = as_user(client, ada).get(f"/rooms/general/?around={theirs.id}").content.decode()
    assert "That message is no longer here" in html
    assert f'id="message-{theirs.id}"' not in html


def test_around_view_keeps_the_edit_controls_and_the_change_cursor(client, ada, grace, room):
    messages = [Message.objects.create(room=room, author=ada, body=f"m{i}") for i in range(3)]
    change = MessageChange.objects.create(room=room, message=messages[0], kind="edited")
    html = as_user(client, ada).get(f"/rooms/general/?around={messages[1].id}").content.decode()
    assert f'<span id="change-cursor" data-after="{change.id}" hidden></span>' in html
    assert f'hx-get="/messages/{messages[1].id}/edit/"' in html
    assert 'is-anchor" data-author=' in html
