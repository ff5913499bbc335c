"""What a person's sockets may ask of one process: every frame, and the costly actions, spend
from the person's budgets (settings.SOCKET_BUDGETS). An action's cost is marked where the action
is defined (`costs`); an action without one spends only the frame it came in.
"""

from collections.abc import Awaitable, Callable

from django.conf import settings

from realtime.limits import BucketMap, Cost

# What each person has left, by person and budget; bounded like every limit here.
action_budgets = BucketMap(capacity=settings.SOCKET_LIMIT_KEYS)
FRAME_COST = Cost("frame")
COST_ATTRIBUTE = "socket_cost"


def costs[A: Callable[..., Awaitable[None]]](budget: str, tokens: float = 1.0) -> Callable[[A], A]:
    """Marks a socket action as spending `tokens` from the person's `budget` (SOCKET_BUDGETS)
    besides the frame it came in."""

    def mark(action: A) -> A:
        setattr(action, COST_ATTRIBUTE, Cost(budget, tokens))
        return action

    return mark


def action_cost(action: Callable[..., Awaitable[None]]) -> Cost | None:
    cost = getattr(action, COST_ATTRIBUTE, None)
    return cost if isinstance(cost, Cost) else None


def within_budget(user_id: int, cost: Cost, *, now: float) -> bool:
    rate, burst = settings.SOCKET_BUDGETS[cost.budget]
    return action_budgets.take(
        f"{user_id}:{cost.budget}", rate=rate, burst=burst, now=now, cost=cost.tokens
    )
