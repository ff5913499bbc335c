"""Search of the messages in the rooms the viewer can read."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from chat import logic
from chat.queries import search as search_queries
from chat.views.layout import layout_context
from realtime.http import AuthedHttpRequest
from realtime.validation import Invalid


@login_required
@require_GET
def search(request: AuthedHttpRequest) -> HttpResponse:
    """Messages in the rooms the viewer can read. The full page, or (from the search box,
    as you type) only the results."""
    raw = request.GET.get("q")
    context: dict[str, Any] = {"query": raw or "", "hits": [], "more": False, "error": ""}
    status = 200
    if raw is not None:
        try:
            query = logic.clean_search_query(raw)
        except Invalid as error:
            context["error"] = str(error)
            status = 422
        else:
            hits, more = search_queries.message_search(
                user=request.user, query=query, limit=logic.SEARCH_RESULTS_LIMIT
            )
            context.update(query=query, hits=hits, more=more, searched=True)
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "chat/search.html#results", context, status=status)
    page = {**layout_context(request), **context, "search_page": True}
    return render(request, "chat/search.html", page, status=status)
