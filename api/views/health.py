"""GET /healthz (the process is alive), GET /readyz (it can serve), GET /metrics (Prometheus)."""
import hmac
import os

from django.conf import settings
from django.http import HttpResponse

from api.observability import metrics
from core.errors import AuthenticationFailed
from api.observability.readiness import readiness
from api.views.base import RelayView, json_response


class HealthView(RelayView):
    """Liveness: answers without touching the database, the cache or 1min.ai."""

    endpoint = "healthz"
    schema = None  # outside /v1/: not in the OpenAPI document

    async def get(self, request):
        return json_response({"status": "ok", "pid": os.getpid(), "version": settings.VERSION})


class ReadyView(RelayView):
    """Readiness: 200 when the database, the cache and the model list are usable, else 503 and why."""

    endpoint = "readyz"
    schema = None

    async def get(self, request):
        ready, report = await readiness()
        body = {"status": "ready" if ready else "unavailable", "pid": os.getpid(), **report}
        return json_response(body, status=200 if ready else 503)


class MetricsView(RelayView):
    endpoint = "metrics"
    schema = None

    async def get(self, request):
        if settings.METRICS_TOKEN:
            header = request.headers.get("Authorization", "")
            if not hmac.compare_digest(header.encode(), f"Bearer {settings.METRICS_TOKEN}".encode()):
                raise AuthenticationFailed("/metrics needs `Authorization: Bearer METRICS_TOKEN`.")
        body, content_type = metrics.render()
        return HttpResponse(body, content_type=content_type)
