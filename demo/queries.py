"""Reads for the public demo."""

from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import Q

from demo.models import Guest, Use


def uses_since(
    *, kind: str, user_id: int | None, address: str | None, since: datetime
) -> tuple[int, int]:
    """How many `kind` uses the account and the address made since `since`."""
    recent = Use.objects.filter(kind=kind, created_at__gte=since)
    by_account = recent.filter(user_id=user_id).count() if user_id is not None else 0
    by_address = recent.filter(address=address).count() if address else 0
    return by_account, by_address


def guest_ids_older_than(*, cutoff: datetime) -> list[int]:
    return list(Guest.objects.filter(created_at__lt=cutoff).values_list("user_id", flat=True))


def username_taken(*, username: str) -> bool:
    return User.objects.filter(Q(username__iexact=username)).exists()
