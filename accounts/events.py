"""Live pushes about people."""

from django.template.loader import render_to_string

from accounts import queries
from realtime.groups import user_group_name
from realtime.push import push_html


def blocks_changed(user_id: int) -> None:
    """Every tab of the user: the rules that hide blocked people's messages."""
    html = render_to_string(
        "accounts/blocked.html#rules-push",
        {"blocked_author_ids": queries.blocked_ids_for(user_id=user_id)},
    )
    push_html(user_group_name(user_id), html)
