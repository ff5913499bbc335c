"""Sending rendered HTML to the sockets in a group.

Every live update in the project is one rendered fragment sent to one group; each process's hub
(realtime.hub) hands it to its page sockets (realtime.sockets.PageConsumer), and htmx swaps it
in by id.
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from realtime.hub import leave_event, push_event


def push_html(group: str, html: str) -> None:
    """Send `html` to every socket in `group`. Called from synchronous code, on commit."""
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(group, push_event(group, html))


async def apush_html(group: str, html: str) -> None:
    """The same, from code already running on the event loop."""
    await get_channel_layer().group_send(group, push_event(group, html))


def push_leave(group: str, *, leave: str, html: str) -> None:
    """Make every socket in `group` leave the group `leave`; those that were in it get `html`.
    Called on commit, when someone loses access to a room."""
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(group, leave_event(group, leave=leave, html=html))
