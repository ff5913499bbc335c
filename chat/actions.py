"""Writes. Each action checks who may do it, changes state atomically and schedules its
events on commit."""

import uuid
from functools import partial

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import queries as people
from chat import events, logic, queries
from chat.logic import Invalid
from chat.models import Invitation, Membership, Message, MessageChange, ReadCursor, Room
from notifications.actions import notify
from notifications.logic import excerpt, mentioned_names
from notifications.models import Notification
from notifications.queries import users_named


class Forbidden(Invalid):
    """The person may see the thing but not do this to it."""


NOT_A_MEMBER = "You are not a member of this room any more."


def room_create(*, name: str, slug: str, created_by: User, private: bool = False) -> Room:
    """A public room (announced to every chat page) or a private one, whose only member is
    its creator until they invite others."""
    with transaction.atomic():
        if queries.room_name_taken(name=name, slug=slug):
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
    existing = queries.room_get(slug=slug)
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


def _check_may_post(*, room: Room, author: User) -> None:
    if room.is_public:  # a room's kind never changes, and public rooms are everyone's
        return
    if not queries.room_is_readable(user=author, room_id=room.id):
        raise Forbidden(NOT_A_MEMBER)
    if room.is_direct:
        others = [member.pk for member in room.members.all() if member.pk != author.pk]
        if others and people.blockers_among(user_id=author.pk, candidate_ids=others):
            raise Forbidden("You cannot send messages in this conversation.")
        if others and people.blockers_among(user_id=others[0], candidate_ids=[author.pk]):
            raise Forbidden("You blocked this person; unblock them to send messages.")


def message_post(*, room: Room, author: User, body: str, client_id: uuid.UUID | None) -> Message:
    """Save a message and push it to the room on commit; notify the people it mentions who
    may read the room and have not blocked the author.

    A send retried with the same client id returns the message saved the first time and
    pushes nothing again.
    """
    if client_id is not None:
        existing = Message.objects.filter(author=author, client_id=client_id).first()
        if existing is not None:
            return existing
    _check_may_post(room=room, author=author)
    mentioned = users_named(mentioned_names(body))
    blockers = people.blockers_among(user_id=author.pk, candidate_ids=[u.pk for u in mentioned])
    recipients = queries.readers_among(
        room=room, users=[user for user in mentioned if user.pk not in blockers]
    )
    try:
        with transaction.atomic():
            message = Message.objects.create(
                room=room,
                author=author,
                body=body,
                client_id=client_id,
                mentions=[user.username for user in mentioned],
            )
            transaction.on_commit(partial(events.message_posted, message), robust=True)
            notify(
                recipients=recipients,
                actor=author,
                verb=Notification.Verb.MENTION,
                target_label=room_label(room),
                target_url=message.get_absolute_url(),
                excerpt=excerpt(body),
            )
    except IntegrityError:
        # Two sockets raced with the same client id; the other one saved it.
        return Message.objects.get(author=author, client_id=client_id)
    return message


def room_label(room: Room) -> str:
    return "a direct message" if room.is_direct else f"#{room.name}"


def message_edit(*, message: Message, editor: User, body: str) -> Message:
    """Change the text of one's own message; everyone in the room sees it, marked edited."""
    if message.deleted_at is not None:
        raise Invalid("That message was deleted.")
    if not logic.may_edit(author_id=message.author_id, editor_id=editor.pk):
        raise Forbidden("You can only edit your own messages.")
    if not queries.room_is_readable(user=editor, room_id=message.room_id):
        raise Forbidden(NOT_A_MEMBER)
    if body == message.body:
        return message
    message.body = body
    # Mentions are linked again; editing does not notify anyone a second time.
    message.mentions = [user.username for user in users_named(mentioned_names(body))]
    message.edited_at = timezone.now()
    _save_change(message, MessageChange.Kind.EDITED, ["body", "mentions", "edited_at"])
    return message


def message_delete(*, message: Message, deleter: User) -> Message:
    """Remove a message's text (one's own, or anyone's for staff); its place stays, marked
    deleted, for everyone in the room."""
    if message.deleted_at is not None:
        return message
    if not logic.may_delete(
        author_id=message.author_id, deleter_id=deleter.pk, deleter_is_staff=deleter.is_staff
    ):
        raise Forbidden("You can only delete your own messages.")
    message.body = ""
    message.mentions = []
    message.deleted_at = timezone.now()
    _save_change(message, MessageChange.Kind.DELETED, ["body", "mentions", "deleted_at"])
    return message


def _save_change(message: Message, kind: MessageChange.Kind, fields: list[str]) -> None:
    with transaction.atomic():
        message.save(update_fields=fields)
        change = MessageChange.objects.create(room_id=message.room_id, message=message, kind=kind)
        transaction.on_commit(partial(events.message_changed, message, change.id), robust=True)


def invitation_create(*, room: Room, inviter: User, invitee: User) -> Invitation:
    """Invite someone to a private room the inviter belongs to; they are notified."""
    if room.kind != Room.Kind.PRIVATE:
        raise Invalid("Only private rooms take invitations.")
    if not queries.is_member(user=inviter, room=room):
        raise Forbidden(NOT_A_MEMBER)
    if queries.is_member(user=invitee, room=room):
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


def room_mark_read(*, user: User, room: Room, up_to: int) -> int | None:
    """Move the user's read cursor in `room` forward to the newest message at or before
    `up_to`; never back. On a move, push the new state to the reader's tabs on commit.
    Returns the cursor, or None when the room has no message at or before `up_to`."""
    newest = (
        Message.objects.filter(room=room, id__lte=up_to)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    if newest is None:
        return None
    with transaction.atomic():
        moved = ReadCursor.objects.filter(user=user, room=room, last_read_id__lt=newest).update(
            last_read_id=newest, updated_at=timezone.now()
        )
        if not moved:
            try:
                with transaction.atomic():
                    _, moved = ReadCursor.objects.get_or_create(
                        user=user, room=room, defaults={"last_read_id": newest}
                    )
            except IntegrityError:
                # Another tab created it at the same moment; move it forward if still behind.
                moved = ReadCursor.objects.filter(
                    user=user, room=room, last_read_id__lt=newest
                ).update(last_read_id=newest, updated_at=timezone.now())
        if moved:
            transaction.on_commit(partial(events.read_cursor_moved, user, room.id), robust=True)
    return queries.read_cursor_for(user_id=user.pk, room_id=room.id)
