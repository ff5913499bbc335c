import asyncio
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "realtime.settings")
# Django must be set up before anything imports models (the routing does).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from realtime.auth import SessionAuthMiddleware  # noqa: E402
from realtime.embedded import start_embedded_workers, stop_embedded_workers  # noqa: E402
from realtime.lifespan import lifespan  # noqa: E402
from realtime.origin import SameOriginValidator  # noqa: E402
from realtime.push import close_outbox, flush_pushes  # noqa: E402
from realtime.routing import channel_application, websocket_urlpatterns  # noqa: E402
from realtime.server import adapt_daphne  # noqa: E402
from realtime.sockets.pages import close_all  # noqa: E402
from realtime.stopping import exit_within  # noqa: E402


async def start_server() -> None:
    """The server has started: the embedded workers, if any, start on its event loop.
    Daphne runs this from its reactor's startup (realtime.server), uvicorn through the
    lifespan protocol (realtime.lifespan)."""
    start_embedded_workers()


async def shutdown() -> None:
    """The server is stopping: pages are told to reconnect (1012) while the embedded workers,
    if any, stop (the task worker finishes its task), and the pushes made so far are sent; all
    before the event loop ends. A write that commits later is pushed by its own thread
    (realtime.push.close_outbox)."""
    await asyncio.gather(close_all(), stop_embedded_workers(), flush_pushes())
    await close_outbox()


async def stop_server() -> None:
    """SIGTERM: the shutdown, and an exit within the grace period whatever happens after it.
    Daphne runs this from its reactor's shutdown trigger (realtime.server), uvicorn through
    the lifespan protocol (realtime.lifespan)."""
    exit_within(settings.SERVER_STOP_GRACE_SECONDS)
    await shutdown()


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(SessionAuthMiddleware(URLRouter(websocket_urlpatterns))),
        "channel": channel_application,
        # Servers that speak the lifespan protocol (uvicorn) run the start and the shutdown
        # through it.
        "lifespan": lifespan(on_startup=start_server, on_shutdown=stop_server),
    }
)

# Under Daphne: the start and the shutdown from its reactor, proper close codes, 1009 for
# oversized messages, 1012 on shutdown.
adapt_daphne(on_startup=start_server, on_shutdown=stop_server)
