"""Live pushes for notifications. Each renders its partials once per group it sends to."""

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from notifications import queries
from notifications.logic import SITE_INBOX_GROUP, inbox_group_name
from notifications.models import Announcement, Notification
from realtime.groups import SITE_GROUP, user_group_name
from realtime.push import push_html

TEMPLATE = "notifications/inbox.html"


def render(partial: str, context: dict[str, Any]) -> str:
    return render_to_string(f"{TEMPLATE}#{partial}", context)


def bell_html(user_id: int) -> str:
    return render("bell", {"unread_count": queries.unread_count_for(user_id=user_id), "oob": True})


def bell_and_banner_html(user_id: int) -> str:
    """The badge and the banner, as a page catching up needs them both."""
    unread_count, announcement = queries.bell_state_for(user_id=user_id)
    return render("bell", {"unread_count": unread_count, "oob": True}) + render(
        "banner", {"announcement": announcement, "oob": True}
    )


def inbox_html(user_id: int) -> str:
    page = queries.inbox_page(
        user_id=user_id, before_id=None, limit=settings.NOTIFICATIONS_PAGE_SIZE
    )
    return render("list", {**page, "oob": True})


def toasts_html(notifications: list[Notification]) -> str:
    return "".join(render("toast-push", {"notification": n}) for n in notifications)


def notification_created(notification: Notification) -> None:
    user_id = notification.recipient_id
    push_html(
        user_group_name(user_id),
        bell_html(user_id) + render("toast-push", {"notification": notification}),
    )
    push_html(inbox_group_name(user_id), render("item-push", {"notification": notification}))


def read_state_changed(user_id: int) -> None:
    """Every tab of the user: the badge and the banner; tabs showing the list: the list."""
    push_html(user_group_name(user_id), bell_and_banner_html(user_id))
    push_html(inbox_group_name(user_id), inbox_html(user_id))


def announcement_published(announcement: Announcement) -> None:
    """One push for the whole site. The author has no notification of their own, so their
    tabs skip these fragments (data-not-for); everyone else's badge counts one more."""
    as_notification = Notification(
        actor_id=announcement.author_id,
        verb=Notification.Verb.ANNOUNCEMENT,
        target_label="Announcement",
        excerpt=announcement.body[:300],
        announcement=announcement,
        created_at=announcement.created_at,
    )
    push_html(
        SITE_GROUP, render("banner", {"announcement": announcement, "oob": True, "live": True})
    )
    push_html(SITE_INBOX_GROUP, render("item-push", {"notification": as_notification}))
