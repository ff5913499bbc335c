"""Writes of rooms, direct conversations, invitations and membership. Each action checks who
may do it, changes state atomically and schedules its events on commit."""

from functools import partial

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from accounts import queries as people
from chat import events, logic
from chat.logic import NOT_A_MEMBER, Forbidden
from chat.models import Invitation, Membership, Room
from chat.queries import rooms as room_queries
from notifications.actions import notify
from notifications.models import Notification
from realtime.validation import Invalid


def room_create(*, name: str, slug: str, created_by: User, private: bool = False) -> Room:
    """A public room (announced to every chat page) or a private one, whose only member is
    its creator until they invite others."""
    with transaction.atomic():
        if room_queries.room_name_taken(name=name, slug=slug):
            raise Invalid(f"A room called “{name}” already exists.")
        kind = Room.Kind.PRIVATE if private else Room.Kind.PUBLIC
        room = Room.objects.create(name=name, slug=slug, kind=kind, created_by=created_by)
        if private:
            Membership.objects.create(room=room, user=created_by)
        transaction.on_commit(partial(events.room_created, room), robust=True)
    return room


def direct_open(*, user: User, other: User) -> Room:
    """The direct conversation between the two, started if there is none yet."""
    if user.pk == other.pk:
        raise Invalid("You cannot send direct messages to yourself.")
    if people.has_blocked(blocker_id=user.pk, blocked_id=other.pk):
        raise Forbidden(f"You blocked {other.username}; unblock them to send messages.")
    if people.has_blocked(blocker_id=other.pk, blocked_id=user.pk):
        raise Forbidden(f"You cannot send direct messages to {other.username}.")
    slug = logic.direct_slug(user.pk, other.pk)
    existing = room_queries.room_get(slug=slug)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            room = Room.objects.create(name=slug, slug=slug, kind=Room.Kind.DIRECT, created_by=user)
            Membership.objects.bulk_create(
                [Membership(room=room, user=user), Membership(room=room, user=other)]
            )
            transaction.on_commit(partial(events.room_added, room, [user, other]), robust=True)
    except IntegrityError:
        # Both opened it at once; the other request made it.
        return Room.objects.get(slug=slug)
    return room


def room_label(room: Room) -> str:
    return "a direct message" if room.is_direct else f"#{room.name}"


def invitation_create(*, room: Room, inviter: User, invitee: User) -> Invitation:
    """Invite someone to a private room the inviter belongs to; they are notified."""
    if room.kind != Room.Kind.PRIVATE:
        raise Invalid("Only private rooms take invitations.")
    if not room_queries.is_member(user=inviter, room=room):
        raise Forbidden(NOT_A_MEMBER)
    if room_queries.is_member(user=invitee, room=room):
        raise Invalid(f"{invitee.username} is already a member.")
    if people.block_between(user_id=inviter.pk, other_id=invitee.pk):
        raise Forbidden(f"You cannot invite {invitee.username}.")
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(room=room, invitee=invitee, invited_by=inviter)
            notify(
                recipients=[invitee],
                actor=inviter,
                verb=Notification.Verb.INVITATION,
                target_label=f"#{room.name}",
                target_url=invitation.get_absolute_url(),
            )
    except IntegrityError:
        raise Invalid(f"{invitee.username} is already invited.") from None
    return invitation


def invitation_accept(*, invitation: Invitation, user: User) -> Room:
    if invitation.invitee_id != user.pk:
        raise Forbidden("That invitation is for someone else.")
    room = invitation.room
    with transaction.atomic():
        invitation.delete()
        _, joined = Membership.objects.get_or_create(room=room, user=user)
        if joined:
            transaction.on_commit(partial(events.room_added, room, [user]), robust=True)
    return room


def invitation_decline(*, invitation: Invitation, user: User) -> None:
    if invitation.invitee_id != user.pk:
        raise Forbidden("That invitation is for someone else.")
    invitation.delete()


def membership_end(*, room: Room, member: User, by: User) -> bool:
    """`member` leaves the private room (when `by` is them) or is removed by its creator or
    staff. Their open pages of the room stop receiving it at once. False if they were not a
    member."""
    if room.kind != Room.Kind.PRIVATE:
        raise Invalid("Only private rooms have members to leave or remove.")
    if not logic.may_remove_member(
        member_id=member.pk,
        remover_id=by.pk,
        owner_id=room.created_by_id,
        remover_is_staff=by.is_staff,
    ):
        raise Forbidden("Only the creator of the room can remove people.")
    with transaction.atomic():
        removed, _ = Membership.objects.filter(room=room, user=member).delete()
        if removed:
            transaction.on_commit(partial(events.access_ended, room, member.pk), robust=True)
    return bool(removed)
