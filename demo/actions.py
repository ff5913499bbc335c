"""Writes for the public demo: guests, the hourly limits, and the reset."""

import io
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from chat.models import Attachment, Message, Room, TranscriptExport
from demo import events, logic, queries
from demo.models import Guest, Use
from demo.seed import DEMO_ROOMS, DEMO_USERS, PRIVATE_ROOM
from notifications.models import Notification
from realtime.validation import Invalid


class LimitReached(Invalid):
    """An hourly demo limit: shown to the person like any other refusal."""


def limit_for(kind: str) -> logic.Limit:
    per_account, per_address = settings.DEMO_LIMITS[kind]
    return logic.Limit(per_account=per_account, per_address=per_address)


def use_check(*, kind: Use.Kind, user: User | None, address: str | None) -> None:
    """In DEMO_MODE, refuse one more `kind` beyond the hourly limits of the account or the
    address. Checked before the action and recorded after it (`use_record`): two requests at
    the same instant may both pass, which costs at most one over the limit each."""
    if not settings.DEMO_MODE:
        return
    since = timezone.now() - timedelta(seconds=logic.WINDOW_SECONDS)
    account_uses, address_uses = queries.uses_since(
        kind=kind, user_id=user.pk if user else None, address=address, since=since
    )
    refusal = logic.limit_refusal(
        kind=kind, limit=limit_for(kind), account_uses=account_uses, address_uses=address_uses
    )
    if refusal:
        raise LimitReached(refusal)


def use_record(*, kind: Use.Kind, user: User | None, address: str | None) -> None:
    if settings.DEMO_MODE:
        Use.objects.create(kind=kind, user=user, address=address)


NAME_ATTEMPTS = 20


def guest_create(*, address: str | None) -> User:
    """A new guest account with a readable name and no password (sign-in is by the guest
    button only), within the address's hourly sign-up limit."""
    use_check(kind=Use.Kind.SIGNUP, user=None, address=address)
    for attempt in range(NAME_ATTEMPTS):
        # Two-digit numbers first; wider ones once those keep colliding.
        numbers = logic.GUEST_NUMBERS if attempt < NAME_ATTEMPTS // 2 else range(100, 10_000)
        name = logic.guest_name(
            animal=secrets.choice(logic.ANIMALS), number=secrets.choice(numbers)
        )
        if queries.username_taken(username=name):
            continue
        try:
            with transaction.atomic():
                user = User(username=name)
                user.set_unusable_password()
                user.save()
                Guest.objects.create(user=user, address=address)
                use_record(kind=Use.Kind.SIGNUP, user=user, address=address)
        except IntegrityError:
            continue  # taken at the same moment by another request
        return user
    raise Invalid("No guest name is free at the moment. Try again.")


@dataclass(frozen=True)
class ResetReport:
    guests: int
    rooms: int
    messages: int
    seed_restored: bool


def demo_reset(*, older_than: timedelta, now: datetime | None = None) -> ResetReport:
    """Remove the guests older than `older_than` with everything they made (their messages,
    the rooms they created, their direct conversations, uploads and exports), and bring back
    any of the seed data (demo.seed) that is missing. Accounts
    that are not guests, and what they wrote, are left alone. On commit, the guests' open
    sockets are closed and every open page is told to reload."""
    cutoff = (now or timezone.now()) - older_than
    with transaction.atomic():
        guest_ids = queries.guest_ids_older_than(cutoff=cutoff)
        rooms = Room.objects.filter(
            Q(created_by_id__in=guest_ids)
            | Q(kind=Room.Kind.DIRECT, memberships__user_id__in=guest_ids)
        ).distinct()
        room_ids = list(rooms.values_list("id", flat=True))
        messages = Message.objects.filter(Q(author_id__in=guest_ids) | Q(room_id__in=room_ids))
        message_count = messages.count()
        files = _files_of(messages, guest_ids, room_ids)
        Room.objects.filter(id__in=room_ids).delete()
        # Others' notifications of what the guests did (mentions, invitations) go too.
        Notification.objects.filter(actor_id__in=guest_ids).delete()
        User.objects.filter(id__in=guest_ids).delete()
        # The hourly limits' records, once past their hour, count nothing any more.
        Use.objects.filter(created_at__lt=cutoff_of_limits(now)).delete()
        seed_missing = _seed_missing()
        if seed_missing:
            call_command("load_demo_data", stdout=io.StringIO())
        transaction.on_commit(partial(_files_delete, files), robust=True)
        if guest_ids or room_ids or message_count or seed_missing:
            transaction.on_commit(events.demo_reset_done, robust=True)
    return ResetReport(
        guests=len(guest_ids),
        rooms=len(room_ids),
        messages=message_count,
        seed_restored=seed_missing,
    )


def cutoff_of_limits(now: datetime | None) -> datetime:
    return (now or timezone.now()) - timedelta(seconds=logic.WINDOW_SECONDS)


def _files_of(messages: QuerySet[Message], guest_ids: list[int], room_ids: list[int]) -> list[str]:
    attachments = Attachment.objects.filter(message__in=messages).values_list(
        "original", "thumbnail"
    )
    exports = TranscriptExport.objects.filter(
        Q(requested_by_id__in=guest_ids) | Q(room_id__in=room_ids)
    ).values_list("file", flat=True)
    names = [name for pair in attachments for name in pair] + list(exports)
    return [name for name in names if name]


def _files_delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _seed_missing() -> bool:
    rooms = {*DEMO_ROOMS, PRIVATE_ROOM[0]}
    return User.objects.filter(username__in=DEMO_USERS).count() < len(
        DEMO_USERS
    ) or Room.objects.filter(name__in=rooms).count() < len(rooms)
