"""Private rooms, direct messages, invitations, edits and deletes: exactly the pushes
expected, and none to anyone who may not read the room."""

import pytest

from accounts.models import Block
from chat import logic
from chat.actions import messages as message_actions
from chat.actions import rooms as room_actions
from chat.models import Invitation, Message, MessageChange, Room
from notifications.models import Notification
from realtime.validation import Invalid


def test_a_private_room_is_announced_to_its_creator_alone(
    ada, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = room_actions.room_create(name="Plans", slug="plans", created_by=ada, private=True)
    assert created.kind == Room.Kind.PRIVATE
    assert list(created.members.all()) == [ada]
    [(group, html)] = pushes.sent
    assert group == f"user.{ada.pk}.reader"  # her tabs with a room list; never the lobby
    assert f'id="room-link-{created.id}"' in html
    assert "beforeend:#room-list" in html


def test_a_direct_conversation_appears_for_both_and_is_made_once(
    ada, grace, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = room_actions.direct_open(user=ada, other=grace)
        again = room_actions.direct_open(user=grace, other=ada)
    assert first == again
    assert first.kind == Room.Kind.DIRECT
    assert set(first.members.all()) == {ada, grace}
    assert pushes.groups() == [f"user.{ada.pk}.reader", f"user.{grace.pk}.reader"]
    ada_link, grace_link = (html for _, html in pushes.sent)
    assert "beforeend:#direct-list" in ada_link
    # Each is named for the other person.
    assert (
        '<span aria-hidden="true">@</span>'
        '<span class="room-name" dir="auto">grace</span><span id="unread-' in ada_link
    )
    assert (
        '<span aria-hidden="true">@</span>'
        '<span class="room-name" dir="auto">ada</span><span id="unread-' in grace_link
    )


@pytest.mark.parametrize(
    ("blocker", "error"),
    [("grace", "You cannot send direct messages to grace."), ("ada", "unblock")],
)
def test_no_direct_conversation_across_a_block(ada, grace, pushes, blocker, error):
    people = {"ada": ada, "grace": grace}
    Block.objects.create(blocker=people[blocker], blocked=grace if blocker == "ada" else ada)
    with pytest.raises(logic.Forbidden, match=error):
        room_actions.direct_open(user=ada, other=grace)
    assert not Room.objects.exists()
    assert pushes.sent == []


def test_no_direct_conversation_with_oneself(ada):
    with pytest.raises(Invalid, match="yourself"):
        room_actions.direct_open(user=ada, other=ada)


def test_a_blocked_person_cannot_post_in_an_existing_conversation(ada, grace, pushes):
    conversation = room_actions.direct_open(user=ada, other=grace)
    Block.objects.create(blocker=grace, blocked=ada)
    with pytest.raises(logic.Forbidden, match="cannot send messages"):
        message_actions.message_post(room=conversation, author=ada, body="hello?", client_id=None)
    assert not Message.objects.exists()


def test_a_non_member_cannot_post_to_a_private_room(linus, secret, pushes):
    with pytest.raises(logic.Forbidden, match="not a member"):
        message_actions.message_post(room=secret, author=linus, body="let me in", client_id=None)
    assert not Message.objects.exists()
    assert pushes.sent == []


def test_mentions_in_a_private_room_notify_only_members(
    ada, grace, linus, secret, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message_actions.message_post(
            room=secret, author=ada, body="@grace @linus plans", client_id=None
        )
    assert [n.recipient for n in Notification.objects.all()] == [grace]
    assert f"user.{linus.pk}" not in pushes.groups()
    assert pushes.groups().count(f"chat.room.{secret.id}") == 1


def test_no_mention_notification_from_someone_you_blocked(
    ada, grace, room, pushes, django_capture_on_commit_callbacks
):
    Block.objects.create(blocker=grace, blocked=ada)
    with django_capture_on_commit_callbacks(execute=True):
        message_actions.message_post(room=room, author=ada, body="hey @grace", client_id=None)
    assert not Notification.objects.exists()
    assert pushes.groups() == [f"chat.room.{room.id}", f"chat.activity.{room.id}"]


def test_an_invitation_notifies_the_invitee_alone(
    ada, grace, linus, secret, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = room_actions.invitation_create(room=secret, inviter=ada, invitee=linus)
    [notification] = Notification.objects.all()
    assert notification.recipient == linus
    assert notification.verb == Notification.Verb.INVITATION
    assert notification.target_url == f"/invitations/{invitation.id}/"
    assert set(pushes.groups()) == {f"user.{linus.pk}", f"user.{linus.pk}.inbox"}
    toast = pushes.to(f"user.{linus.pk}")[0]
    assert "invited you</span>" not in toast
    assert "invited you to <a" in toast


@pytest.mark.parametrize(
    ("inviter", "invitee", "error"),
    [
        ("linus", "linus", "not a member"),  # outsiders cannot invite
        ("ada", "grace", "already a member"),
    ],
)
def test_refused_invitations(ada, grace, linus, secret, pushes, inviter, invitee, error):
    people = {"ada": ada, "grace": grace, "linus": linus}
    with pytest.raises(Invalid, match=error):
        room_actions.invitation_create(
            room=secret, inviter=people[inviter], invitee=people[invitee]
        )
    assert not Invitation.objects.exists()
    assert pushes.sent == []


def test_inviting_twice_is_refused(ada, linus, secret):
    room_actions.invitation_create(room=secret, inviter=ada, invitee=linus)
    with pytest.raises(Invalid, match="already invited"):
        room_actions.invitation_create(room=secret, inviter=ada, invitee=linus)


def test_public_rooms_take_no_invitations(ada, linus, room):
    with pytest.raises(Invalid, match="Only private rooms"):
        room_actions.invitation_create(room=room, inviter=ada, invitee=linus)


def test_no_invitation_across_a_block(ada, linus, secret):
    Block.objects.create(blocker=linus, blocked=ada)
    with pytest.raises(logic.Forbidden, match="cannot invite"):
        room_actions.invitation_create(room=secret, inviter=ada, invitee=linus)


def test_accepting_adds_the_room_to_the_invitees_sidebar(
    ada, linus, secret, pushes, django_capture_on_commit_callbacks
):
    invitation = Invitation.objects.create(room=secret, invitee=linus, invited_by=ada)
    with django_capture_on_commit_callbacks(execute=True):
        joined = room_actions.invitation_accept(invitation=invitation, user=linus)
    assert joined == secret
    assert linus in secret.members.all()
    assert not Invitation.objects.exists()
    [(group, html)] = pushes.sent
    assert group == f"user.{linus.pk}.reader"
    assert f'id="room-link-{secret.id}"' in html


def test_declining_forgets_the_invitation(ada, linus, secret, pushes):
    invitation = Invitation.objects.create(room=secret, invitee=linus, invited_by=ada)
    room_actions.invitation_decline(invitation=invitation, user=linus)
    assert not Invitation.objects.exists()
    assert linus not in secret.members.all()
    assert pushes.sent == []


def test_only_the_invitee_can_answer(ada, grace, linus, secret):
    invitation = Invitation.objects.create(room=secret, invitee=linus, invited_by=ada)
    with pytest.raises(logic.Forbidden):
        room_actions.invitation_accept(invitation=invitation, user=grace)


def test_removing_a_member_evicts_their_sockets_and_unlists_the_room(
    ada, grace, secret, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert room_actions.membership_end(room=secret, member=grace, by=ada) is True
    assert grace not in secret.members.all()
    # All to grace alone: her sockets leave the room's group and its activity group (her room
    # lists stop counting it, silently), her sidebars drop the link.
    assert pushes.groups() == [f"user.{grace.pk}"] * 2 + [f"user.{grace.pk}.reader"]
    evict, unfollow, unlist = (html for _, html in pushes.sent)
    assert evict.startswith(f"leave chat.room.{secret.id}: ")
    assert "You are no longer a member of #Secret." in evict
    assert unfollow == f"leave chat.activity.{secret.id}: "
    assert f'id="room-link-{secret.id}" hx-swap-oob="delete"' in unlist


def test_leaving(grace, secret, pushes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert room_actions.membership_end(room=secret, member=grace, by=grace) is True
    assert pushes.groups() == [f"user.{grace.pk}"] * 2 + [f"user.{grace.pk}.reader"]


def test_only_the_creator_removes_others(ada, grace, secret, pushes):
    with pytest.raises(logic.Forbidden, match="Only the creator"):
        room_actions.membership_end(room=secret, member=ada, by=grace)
    assert ada in secret.members.all()
    assert pushes.sent == []


def test_editing_pushes_the_message_once_with_the_change_cursor(
    ada, room, pushes, django_capture_on_commit_callbacks
):
    message = Message.objects.create(room=room, author=ada, body="helo")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message_actions.message_edit(message=message, editor=ada, body="hello @ada")
    assert pushes.sent == []
    for callback in callbacks:
        callback()
    message.refresh_from_db()
    assert message.body == "hello @ada"
    assert message.edited_at is not None
    assert message.mentions == ["ada"]
    [change] = MessageChange.objects.all()
    assert change.kind == MessageChange.Kind.EDITED
    [(group, html)] = pushes.sent
    assert group == f"chat.room.{room.id}"
    assert f'<article id="message-{message.id}"' in html
    assert 'hx-swap-oob="true"' in html
    assert "(edited)" in html
    assert f'<span id="change-cursor" data-after="{change.id}" hidden hx-swap-oob="true">' in html
    assert not Notification.objects.exists()  # editing never notifies


def test_an_unchanged_edit_changes_nothing(ada, room, pushes):
    message = Message.objects.create(room=room, author=ada, body="same")
    message_actions.message_edit(message=message, editor=ada, body="same")
    assert not MessageChange.objects.exists()
    assert pushes.sent == []


def test_only_the_author_edits(ada, grace, room, pushes):
    message = Message.objects.create(room=room, author=ada, body="mine")
    with pytest.raises(logic.Forbidden, match="your own"):
        message_actions.message_edit(message=message, editor=grace, body="yours now")
    message.refresh_from_db()
    assert message.body == "mine"
    assert pushes.sent == []


def test_deleting_keeps_the_place_but_not_the_text(
    ada, room, pushes, django_capture_on_commit_callbacks
):
    message = Message.objects.create(room=room, author=ada, body="oops @ada", mentions=["ada"])
    with django_capture_on_commit_callbacks(execute=True):
        message_actions.message_delete(message=message, deleter=ada)
    message.refresh_from_db()
    assert (message.body, message.mentions) == ("", [])
    assert message.deleted_at is not None
    [(group, html)] = pushes.sent
    assert group == f"chat.room.{room.id}"
    assert "This message was deleted." in html
    assert "oops" not in html
    # Deleting again does nothing more.
    message_actions.message_delete(message=message, deleter=ada)
    assert len(pushes.sent) == 1
    with pytest.raises(Invalid, match="was deleted"):
        message_actions.message_edit(message=message, editor=ada, body="back")


@pytest.mark.parametrize(("deleter", "allowed"), [("grace", False), ("staff", True)])
def test_others_delete_only_as_staff(ada, grace, make_user, room, pushes, deleter, allowed):
    staff = make_user("root")
    staff.is_staff = True
    staff.save()
    message = Message.objects.create(room=room, author=ada, body="hi")
    who = staff if deleter == "staff" else grace
    if allowed:
        message_actions.message_delete(message=message, deleter=who)
        assert Message.objects.get().deleted_at is not None
    else:
        with pytest.raises(logic.Forbidden):
            message_actions.message_delete(message=message, deleter=who)
        assert Message.objects.get().deleted_at is None
