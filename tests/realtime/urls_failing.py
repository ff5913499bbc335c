"""Views whose database fails, for the middleware tests."""

from django.db import OperationalError, ProgrammingError
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def unreachable(request: HttpRequest) -> HttpResponse:
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed')


def broken_query(request: HttpRequest) -> HttpResponse:
    raise ProgrammingError('relation "chat_room" does not exist')


urlpatterns = [
    path("unreachable/", unreachable),
    path("broken/", broken_query),
    path("", include("realtime.urls")),
]
