from django import template

from frontend import avatars

register = template.Library()


@register.filter
def initials(name: str) -> str:
    return avatars.initials(name)


@register.filter
def avatar_hue(name: str) -> int:
    return avatars.hue(name)
