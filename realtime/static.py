"""Static files (WhiteNoise) without putting every request in a thread under ASGI.

WhiteNoise's middleware is sync only (no async support upstream: evansd/whitenoise#179, the
async rewrite in evansd/whitenoise#359 went to a fork). Under ASGI, Django then runs the rest of
every request in a thread that waits on the event loop for the middleware and the view inside
it: a hop per request, and a thread left waiting for ever when the loop stops first, so that a
server stopping (SIGTERM) with a request in flight could only end by its exit timer
(realtime.stopping).

`StaticFilesMiddleware` answers what WhiteNoise would, with WhiteNoise's own lookup and
response, and leaves everything else on the event loop. It reads four members of
WhiteNoiseMiddleware (`autorefresh`, `files`, `find_file`, `serve`); whitenoise is pinned in
the lock, and at import the members and the version are checked. On a mismatch this module
offers WhiteNoise's own middleware instead, and says so in one error line.
"""

import inspect
import logging
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from typing import Any, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse
from whitenoise.middleware import WhiteNoiseMiddleware  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)

TESTED_VERSION = "6.12.0"
# The methods read, with their parameters (WhiteNoise's WSGI base has a `serve` of its own).
METHODS = {"find_file": ["self", "url"], "serve": ["static_file", "request"]}
INSTANCE_ATTRIBUTES = ("autorefresh", "files")


def mismatches() -> list[str]:
    """What differs from the WhiteNoise this module was written against."""
    found = []
    installed = version("whitenoise")
    if installed != TESTED_VERSION:
        found.append(f"whitenoise {installed}, not {TESTED_VERSION}")
    for name, parameters in METHODS.items():
        method = getattr(WhiteNoiseMiddleware, name, None)
        if not callable(method) or list(inspect.signature(method).parameters) != parameters:
            found.append(f"no {name}({', '.join(parameters)})")
    # Set in __init__ (WhiteNoise's, which the middleware's calls): looked for in their code.
    source = "".join(
        inspect.getsource(cls.__init__)
        for cls in WhiteNoiseMiddleware.__mro__
        if cls.__module__.startswith("whitenoise") and "__init__" in vars(cls)
    )
    found += [f"no self.{name}" for name in INSTANCE_ATTRIBUTES if f"self.{name} =" not in source]
    return found


class AsyncWhiteNoiseMiddleware(WhiteNoiseMiddleware):
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(get_response, *args, **kwargs)
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self.__acall__(request)
        return cast(HttpResponse, super().__call__(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        # Without autorefresh (production), the files are known in memory: no thread.
        if self.autorefresh:
            static_file = await sync_to_async(self.find_file)(path)
        else:
            static_file = self.files.get(path)
        if static_file is not None:
            # Opening and stat-ing the file blocks.
            return cast(HttpResponse, await sync_to_async(self.serve)(static_file, request))
        return await cast(Awaitable[HttpResponse], self.get_response(request))


def static_files_middleware() -> type[Any]:
    found = mismatches()
    if found:
        logger.error(
            "Serving static files with WhiteNoise's own (sync) middleware: %s", "; ".join(found)
        )
        return cast(type[Any], WhiteNoiseMiddleware)
    return AsyncWhiteNoiseMiddleware


StaticFilesMiddleware = static_files_middleware()
