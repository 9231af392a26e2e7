"""`/metrics` for Prometheus: with the scrape token (`Authorization: Bearer`), or for a
signed-in ICT officer or the administrator (`core.view_metrics`, second factor verified).
Everyone else is refused: 401 without credentials, 403 for a signed-in person without
the action."""

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from kaunti.core import permissions
from kaunti.core.metrics.exposition import render

VIEW_METRICS = "core.view_metrics"


def bearer_token_matches(request: HttpRequest) -> bool:
    """The request's bearer token equals `METRICS_TOKEN` (compared in constant time);
    never when no token is configured."""
    expected = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not bearer_token_matches(request):
        if not request.user.is_authenticated:
            response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        # Raises PermissionDenied (403) for anyone but an ICT officer or the administrator.
        permissions.check_staff(request.user, VIEW_METRICS)
    # The text format every Prometheus reads, 2.x and 3.x alike (our names are plain).
    return HttpResponse(render(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
