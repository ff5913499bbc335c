"""Sending rendered HTML to the sockets in a group.

Every live update in the project is one rendered fragment sent to one group; the page socket
(realtime.sockets.PageConsumer) relays it unchanged, and htmx swaps it in by id.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

PUSH_EVENT_TYPE = "html.push"


def push_event(html: str) -> dict[str, str]:
    return {"type": PUSH_EVENT_TYPE, "html": html}


def push_html(group: str, html: str) -> None:
    """Send `html` to every socket in `group`. Called from synchronous code, on commit."""
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(group, push_event(html))
