"""Live pushes for reactions: a message's reactions bar, rendered once and sent to the room's
group (joined only by sockets allowed to read the room, chat.consumers.RoomPart).

The fragment is the same for everyone in the room: it names every person who reacted, each in
an element of their own, and the page counts those it shows. The viewer's blocked people are
hidden by their page's #blocked-authors style (accounts/blocked.html), so they are neither
counted nor named there; their own reactions are marked by the room page's style.
"""

from django.template.loader import render_to_string

from chat.logic import room_group_name
from chat.models import Message
from realtime.push import push_html


def reactions_changed(message: Message, change_id: int) -> None:
    """The bar as it is now (read at commit time) replaces the message's bar by id, and the
    page's change cursor moves on, so that a resume does not send it again."""
    html = render_to_string(
        "chat/reactions.html#bar-push", {"message": message, "change_cursor": change_id}
    )
    push_html(room_group_name(message.room_id), html)
