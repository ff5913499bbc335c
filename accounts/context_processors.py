from typing import Any

from django.http import HttpRequest

from accounts import queries


def blocked_authors(request: HttpRequest) -> dict[str, Any]:
    """The people the viewer blocked, whose live messages every page hides."""
    if not request.user.is_authenticated:
        return {}
    return {"blocked_author_ids": queries.blocked_ids_for(user_id=request.user.pk)}
