import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "realtime.settings")
# Django must be set up before anything imports models (the routing does).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from realtime.auth import SessionAuthMiddleware  # noqa: E402
from realtime.routing import channel_application, websocket_urlpatterns  # noqa: E402
from realtime.server import adapt_daphne  # noqa: E402
from realtime.sockets import close_all  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            SessionAuthMiddleware(URLRouter(websocket_urlpatterns))
        ),
        "channel": channel_application,
    }
)

# Under Daphne: proper close codes, 1009 for oversized messages, 1012 on shutdown.
adapt_daphne(on_shutdown=close_all)
