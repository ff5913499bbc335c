from django import template
from django.urls import reverse
from django.utils.html import urlize
from django.utils.safestring import SafeString, mark_safe

from chat.models import Message
from notifications.logic import link_mentions

register = template.Library()


def profile_url(username: str) -> str:
    return reverse("profile", args=[username])


@register.filter
def message_html(message: Message) -> SafeString:
    """The body escaped, with links and known @mentions clickable and line breaks kept."""
    linked = urlize(message.body, nofollow=True, autoescape=True)
    with_mentions = link_mentions(linked, message.mentions, profile_url)
    return mark_safe(with_mentions.replace("\n", "<br>"))  # noqa: S308 - built from escaped text
