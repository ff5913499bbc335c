from django.conf import settings
from django.http import HttpRequest


def demo(request: HttpRequest) -> dict[str, object]:
    """Whether this is the public demo, on every page (its reload-on-reset script)."""
    return {"demo_mode": settings.DEMO_MODE, "guest_hours": settings.DEMO_GUEST_HOURS}
