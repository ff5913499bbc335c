"""Reads for search: messages matching a query, in the rooms the searcher may read."""

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import QuerySet, Subquery, prefetch_related_objects
from django.utils.safestring import SafeString

from chat import logic
from chat.models import Message
from chat.queries import rooms as room_queries
from chat.queries.messages import by_blocked_authors
from chat.queries.rooms import MEMBER_NAMES


@dataclass(frozen=True)
class SearchHit:
    message: Message
    snippet: SafeString  # escaped, with the matches in <mark>


def message_search(*, user: User, query: str, limit: int) -> tuple[list[SearchHit], bool]:
    """Messages matching `query` in the rooms `user` can read, best first, and whether there
    were more than `limit`; deleted messages and those by people `user` blocked are left
    out. PostgreSQL ranks full-text matches (GIN-indexed, see migration 0005); other
    databases match every word as a substring, newest first."""
    messages = (
        Message.objects.filter(
            room__in=room_queries.rooms_readable_by(user=user), deleted_at__isnull=True
        )
        .exclude(by_blocked_authors(user.pk))
        .select_related("room", "author")
    )
    if connection.vendor == "postgresql":
        hits = _full_text_search(messages, query, limit + 1)
    else:
        hits = _substring_search(messages, query, limit + 1)
    # A direct conversation is shown under the other person's name.
    prefetch_related_objects(
        [hit.message.room for hit in hits if hit.message.room.is_direct], MEMBER_NAMES
    )
    return hits[:limit], len(hits) > limit


def full_text_matches(messages: QuerySet[Message], query: str) -> QuerySet[Message]:
    """PostgreSQL: messages matching a web-search style query (words, "phrases", -not, or),
    best first, each with a headline whose matches are marked. Only the newest
    SEARCH_CANDIDATES matches are ranked: ranking reads every candidate's text again, and in
    a chat the newest of many matches are the likely ones."""
    # The same expression as the GIN index, or PostgreSQL cannot use it.
    document = SearchVector("body", config="english")
    search = SearchQuery(query, config="english", search_type="websearch")
    candidates = (
        messages.alias(document=document)
        .filter(document=search)
        .order_by("-id")
        .values("id")[: logic.SEARCH_CANDIDATES]
    )
    return (
        messages.filter(id__in=Subquery(candidates))
        .annotate(
            rank=SearchRank(document, search),
            headline=SearchHeadline(
                "body",
                search,
                config="english",
                start_sel=logic.MARK_START,
                stop_sel=logic.MARK_STOP,
                max_words=30,
                min_words=12,
            ),
        )
        .order_by("-rank", "-id")
    )


def _full_text_search(messages: QuerySet[Message], query: str, limit: int) -> list[SearchHit]:
    rows = full_text_matches(messages, query)[:limit]
    return [
        SearchHit(message=row, snippet=logic.highlight(row.headline))  # type: ignore[attr-defined]
        for row in rows
    ]


def _substring_search(messages: QuerySet[Message], query: str, limit: int) -> list[SearchHit]:
    terms = logic.search_terms(query)
    if not terms:
        return []
    for term in terms:
        messages = messages.filter(body__icontains=term)
    return [
        SearchHit(message=row, snippet=logic.highlight(logic.marked_snippet(row.body, terms)))
        for row in messages.order_by("-id")[:limit]
    ]
