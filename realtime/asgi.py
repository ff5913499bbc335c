import asyncio
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "realtime.settings")
# Django must be set up before anything imports models (the routing does).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from realtime.auth import SessionAuthMiddleware  # noqa: E402
from realtime.lifespan import lifespan  # noqa: E402
from realtime.origin import SameOriginValidator  # noqa: E402
from realtime.push import close_outbox, flush_pushes  # noqa: E402
from realtime.routing import channel_application, websocket_urlpatterns  # noqa: E402
from realtime.server import adapt_daphne  # noqa: E402
from realtime.sockets.consumer import close_all  # noqa: E402
from realtime.stopping import exit_within  # noqa: E402
from taskworker.embedded import stop_embedded_workers, with_embedded_worker  # noqa: E402


async def shutdown() -> None:
    """The server is stopping: pages are told to reconnect (1012) while the embedded task
    worker, if any, finishes its task and stops, and the pushes made so far are sent; all
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
        # Servers that speak the lifespan protocol (uvicorn) run the shutdown through it.
        "lifespan": lifespan(on_shutdown=stop_server),
    }
)
if settings.TASK_WORKER_EMBEDDED:
    # The embedded topology: tasks run inside this process (see taskworker.embedded).
    application = with_embedded_worker(application)


# Under Daphne: proper close codes, 1009 for oversized messages, 1012 on shutdown.
adapt_daphne(on_shutdown=stop_server)
