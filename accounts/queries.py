from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db.models import Q

from accounts.models import Block


def blocked_ids_for(*, user_id: int) -> list[int]:
    """The people `user_id` has blocked: their messages are hidden from `user_id`."""
    return list(
        Block.objects.filter(blocker_id=user_id)
        .order_by("blocked_id")
        .values_list("blocked_id", flat=True)
    )


def has_blocked(*, blocker_id: int, blocked_id: int) -> bool:
    return Block.objects.filter(blocker_id=blocker_id, blocked_id=blocked_id).exists()


def block_between(*, user_id: int, other_id: int) -> bool:
    """Whether either of the two has blocked the other."""
    return Block.objects.filter(
        Q(blocker_id=user_id, blocked_id=other_id) | Q(blocker_id=other_id, blocked_id=user_id)
    ).exists()


def blockers_among(*, user_id: int, candidate_ids: Iterable[int]) -> set[int]:
    """Those of `candidate_ids` who have blocked `user_id`."""
    return set(
        Block.objects.filter(blocked_id=user_id, blocker_id__in=list(candidate_ids)).values_list(
            "blocker_id", flat=True
        )
    )


def person_get(*, username: str) -> User | None:
    return User.objects.filter(username=username, is_active=True).first()
