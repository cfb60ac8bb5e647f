"""GET /: what this service is and which endpoints it serves."""
from django.conf import settings

from api.views.base import RelayView, json_response

ENDPOINTS = [
    "GET /v1/models",
    "GET /v1/models/{model}",
    "POST /v1/chat/completions",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
]


class RootView(RelayView):
    endpoint = "root"

    async def get(self, request):
        return json_response(
            {
                "service": "1min-relay",
                "description": "OpenAI-compatible API relay for 1min.ai",
                "version": settings.VERSION,
                "endpoints": ENDPOINTS,
            }
        )
