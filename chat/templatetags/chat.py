import functools
from collections.abc import Mapping

from django import template
from django.template import Context, Engine, Template
from django.urls import reverse
from django.utils.html import urlize
from django.utils.safestring import SafeString, mark_safe

from chat.logic import direct_partner as direct_partner_name
from chat.logic import link_mentions
from chat.models import Message, Room
from chat.queries.unread import UnreadState
from chat.reactions.models import Reaction

register = template.Library()


def profile_url(username: str) -> str:
    return reverse("profile", args=[username])


@register.filter
def message_html(message: Message) -> SafeString:
    """The body escaped, with links and known @mentions clickable and line breaks kept."""
    linked = urlize(message.body, nofollow=True, autoescape=True)
    with_mentions = link_mentions(linked, message.mentions, profile_url)
    return mark_safe(with_mentions.replace("\n", "<br>"))  # noqa: S308 - built from escaped text


@register.filter
def unread_in(states: Mapping[int, UnreadState] | None, room: Room) -> UnreadState:
    """The viewer's unread state in `room`; nothing read and nothing unread if unknown (a
    room pushed to everyone the moment it was created)."""
    known = (states or {}).get(room.pk)
    return known or UnreadState(room_id=room.pk, read_id=0, newest_id=0, count=0)


@register.filter
def direct_partner(room: Room, viewer_id: int | str) -> str:
    """What a direct conversation is called for the viewer: the other person's name."""
    names = {member.pk: member.get_username() for member in room.members.all()}
    return direct_partner_name(names, int(viewer_id))


@register.simple_tag
def reaction_picker() -> SafeString:
    """The reaction picker: the fixed set (Reaction.Emoji's choices, in their order), the same
    for every message (the bar around it names the message), so rendered once per template
    loaded: again when the template changes (the development server reloads templates)."""
    return _picker_html(Engine.get_default().get_template("chat/reactions.html#picker"))


@functools.lru_cache(maxsize=1)
def _picker_html(template: Template) -> SafeString:
    return template.render(Context({"choices": Reaction.Emoji.choices}))
