"""Writes about people. Each action changes state atomically and pushes on commit."""

from functools import partial

from django.contrib.auth.models import User
from django.db import transaction

from accounts import events
from accounts.models import Block
from realtime.validation import Invalid


def block(*, blocker: User, blocked: User) -> bool:
    """Hide `blocked`'s messages from `blocker` (on every tab, at once) and stop them sending
    `blocker` direct messages. False if the block already existed."""
    if blocker.pk == blocked.pk:
        raise Invalid("You cannot block yourself.")
    with transaction.atomic():
        _, created = Block.objects.get_or_create(blocker=blocker, blocked=blocked)
        if created:
            transaction.on_commit(partial(events.blocks_changed, blocker.pk), robust=True)
    return created


def unblock(*, blocker: User, blocked: User) -> bool:
    with transaction.atomic():
        removed, _ = Block.objects.filter(blocker=blocker, blocked=blocked).delete()
        if removed:
            transaction.on_commit(partial(events.blocks_changed, blocker.pk), robust=True)
    return bool(removed)
