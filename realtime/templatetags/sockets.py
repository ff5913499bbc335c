from django import template

from realtime.sockets.urls import on_page as socket_on_page

register = template.Library()


@register.filter
def on_page(url: str, path: str) -> str:
    """`{{ socket_url|on_page:request.path }}`: the page socket, told which page it is on."""
    return socket_on_page(url, path)
