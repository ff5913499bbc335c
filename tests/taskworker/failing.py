"""A real function that fails the first few times it is called, as a database that is down or
busy makes it fail."""

from collections.abc import Callable, Sequence
from typing import Any


def failing_first(real: Callable[..., Any], errors: Sequence[Exception]) -> Callable[..., Any]:
    """`real`, except that its first len(errors) calls raise those errors, in order."""
    waiting = list(errors)

    def call(*args: Any, **kwargs: Any) -> Any:
        if waiting:
            raise waiting.pop(0)
        return real(*args, **kwargs)

    return call
