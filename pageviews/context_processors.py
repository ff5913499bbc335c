from functools import partial
from typing import Any

from django.http import HttpRequest

from pageviews import queries


def counters(request: HttpRequest) -> dict[str, Any]:
    # A callable: templates call it only where the counters are shown (not in htmx partials).
    return {"page_views": partial(queries.page_views, path=request.path)}
