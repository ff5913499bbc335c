"""Live pushes of the public demo's reset."""

from django.template.loader import render_to_string

from realtime.groups import SITE_GROUP
from realtime.push import push_html


def demo_reset_done() -> None:
    """Every open page is told to reload (frontend/demo.js), since what it shows may be gone.
    The removed guests' own tabs are closed with 4401 already: deleting an account ends its
    sockets (realtime.revocation)."""
    push_html(SITE_GROUP, render_to_string("demo/guest.html#reset-push"))
