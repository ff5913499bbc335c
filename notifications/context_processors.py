from typing import Any

from django.http import HttpRequest

from notifications import queries
from realtime.sockets.urls import socket_url


def bell(request: HttpRequest) -> dict[str, Any]:
    """The unread badge and the announcement banner, on every page of a signed-in user."""
    if not request.user.is_authenticated:
        return {}
    user_id = request.user.pk
    return {
        # Every page of a signed-in user opens the page socket; pages that need more groups
        # (a room, the inbox) pass their own socket_url, which takes precedence.
        "socket_url": socket_url(),
        "unread_count": queries.unread_count_for(user_id=user_id),
        "banner_announcement": queries.unread_announcement_for(user_id=user_id),
        # Where the page's socket resumes toasts from after it (re)opens.
        "notification_cursor": queries.newest_notification_id(user_id=user_id),
    }
