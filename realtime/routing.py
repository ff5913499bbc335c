from django.urls import path

from chat.consumers import LobbyPart, RoomPart, TaskResultsPart
from notifications.consumers import PersonalPart
from realtime.sockets import SOCKET_PATH, PageConsumer

websocket_urlpatterns = [
    path(
        SOCKET_PATH.lstrip("/"),
        PageConsumer.as_asgi(parts=(PersonalPart, LobbyPart, RoomPart, TaskResultsPart)),
    ),
]
