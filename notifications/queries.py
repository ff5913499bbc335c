from collections.abc import Iterable
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Max, Q

from notifications.models import Announcement, Notification
from realtime.prepared import PreparedQuery


def unread_count_for(*, user_id: int) -> int:
    return Notification.objects.filter(recipient_id=user_id, read_at__isnull=True).count()


def newest_notification_id(*, user_id: int) -> int:
    """The cursor of a freshly rendered page: its newest notification's id (0 for none)."""
    newest = Notification.objects.filter(recipient_id=user_id).order_by("-id").first()
    return newest.id if newest else 0


def notifications_after(*, user_id: int, after_id: int, limit: int) -> list[Notification]:
    """The newest `limit` notifications after `after_id` that a page shows as toasts (not
    announcements: the banner carries those), oldest first."""
    rows = (
        Notification.objects.filter(recipient_id=user_id, id__gt=after_id, announcement=None)
        .select_related("actor")
        .order_by("-id")[:limit]
    )
    return list(rows)[::-1]


def inbox_page(*, user_id: int, before_id: int | None, limit: int) -> dict[str, Any]:
    """A page of the inbox, newest first: the notifications, whether older ones exist, and
    the cursor for the next page."""
    rows = Notification.objects.filter(recipient_id=user_id).select_related("actor")
    if before_id is not None:
        rows = rows.filter(id__lt=before_id)
    page = list(rows.order_by("-id")[: limit + 1])
    return {
        "notifications": page[:limit],
        "has_older": len(page) > limit,
        "last_id": page[limit - 1].id if len(page) > limit else None,
    }


def users_named(names: Iterable[str]) -> list[User]:
    """Active users whose username matches one of `names`, ignoring case."""
    matches = [Q(username__iexact=name) for name in names]
    if not matches:
        return []
    return list(User.objects.filter(reduce(or_, matches), is_active=True).order_by("id"))


# Every page socket reads the bell when it opens: compiled once (realtime.prepared).
_bell_rows = PreparedQuery(
    lambda user_id: (
        Notification.objects.filter(recipient_id=user_id, read_at__isnull=True)
        .order_by()
        .values("recipient_id")
        .annotate(
            count=Count("id"),
            newest_announcement=Max("id", filter=Q(verb=Notification.Verb.ANNOUNCEMENT)),
        )
        .values_list("count", "newest_announcement")
    ),
    user_id=int,
)
_announcement_of = PreparedQuery(
    lambda notification_id: Announcement.objects.filter(notifications__id=notification_id),
    notification_id=int,
)


def bell_state_for(*, user_id: int) -> tuple[int, Announcement | None]:
    """The unread count, and the announcement `unread_announcement_for` finds: one query,
    and one more only while there is an announcement to show."""
    rows = _bell_rows(user_id=user_id)
    if not rows:
        return 0, None
    [(count, newest_announcement)] = rows
    if newest_announcement is None:
        return count, None
    announcements = _announcement_of(notification_id=newest_announcement)
    return count, announcements[0] if announcements else None


def unread_announcement_for(*, user_id: int) -> Announcement | None:
    """The newest announcement the user has not dismissed, for the banner."""
    notification = (
        Notification.objects.filter(
            recipient_id=user_id,
            verb=Notification.Verb.ANNOUNCEMENT,
            read_at__isnull=True,
        )
        .select_related("announcement")
        .order_by("-id")
        .first()
    )
    return notification.announcement if notification else None


def digest_recipients_due(*, cutoff: datetime) -> list[int]:
    """Users with notifications unread since before `cutoff` that no digest has carried yet."""
    return list(
        Notification.objects.filter(
            read_at__isnull=True,
            emailed_at__isnull=True,
            created_at__lte=cutoff,
            recipient__is_active=True,
        )
        .exclude(recipient__email="")
        .values_list("recipient_id", flat=True)
        .distinct()
        .order_by("recipient_id")
    )


def has_unread_about(*, user_id: int, verb: str, url_prefix: str) -> bool:
    """Whether the user has an unread notification of `verb` whose link starts so."""
    return Notification.objects.filter(
        recipient_id=user_id, verb=verb, read_at__isnull=True, target_url__startswith=url_prefix
    ).exists()
