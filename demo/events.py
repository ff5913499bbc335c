"""Live pushes of the public demo's reset."""

from django.template.loader import render_to_string

from notifications.logic import SITE_GROUP, user_group_name
from realtime.push import push_close, push_html
from realtime.sockets import CLOSE_UNAUTHENTICATED


def demo_reset_done(guest_ids: list[int]) -> None:
    """The removed guests' tabs lose their sockets (their accounts are gone: 4401, as a
    session that ended); every other open page is told to reload (frontend/demo.js), since
    what it shows may be gone."""
    for user_id in guest_ids:
        push_close(user_group_name(user_id), code=CLOSE_UNAUTHENTICATED)
    push_html(SITE_GROUP, render_to_string("demo/guest.html#reset-push"))
