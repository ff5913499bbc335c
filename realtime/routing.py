from channels.routing import ChannelNameRouter
from django.conf import settings
from django.urls import path

from chat.consumers import LobbyPart, RoomPart, RoomPresencePart, TaskResultsPart, UnreadPart
from notifications.consumers import PersonalPart
from pageviews.consumers import PagePart, PageviewWorker, StatsPart
from realtime.heartbeat import HeartbeatPart
from realtime.sockets.consumer import PageConsumer
from realtime.sockets.urls import SOCKET_PATH

websocket_urlpatterns = [
    path(
        SOCKET_PATH.lstrip("/"),
        PageConsumer.as_asgi(
            parts=(
                PersonalPart,
                LobbyPart,
                RoomPart,
                RoomPresencePart,
                UnreadPart,
                TaskResultsPart,
                PagePart,
                StatsPart,
                HeartbeatPart,
            )
        ),
    ),
]

# Workers: `manage.py runworker <channel>` runs the consumer of each channel named here.
channel_application = ChannelNameRouter({settings.PAGEVIEWS_CHANNEL: PageviewWorker.as_asgi()})
