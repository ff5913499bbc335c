import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics of this process. Open in DEBUG; otherwise only with
    `Authorization: Bearer $METRICS_TOKEN`, and absent (404) when no token is configured."""
    token = settings.METRICS_TOKEN
    if not settings.DEBUG:
        if not token:
            raise Http404
        expected = f"Bearer {token}".encode()
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return HttpResponse("A valid metrics token is required.\n", status=401)
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
