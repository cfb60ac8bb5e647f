"""GET /: what this service is and which endpoints it serves."""
from django.conf import settings

from api.views.base import RelayView, json_response

ENDPOINTS = [
    "GET /v1/models",
    "GET /v1/models/{model}",
    "POST /v1/chat/completions",
    "POST /v1/responses",
    "GET /v1/responses/{response_id}",
    "DELETE /v1/responses/{response_id}",
    "GET /v1/responses/{response_id}/input_items",
    "POST /v1/images/generations",
    "POST /v1/audio/transcriptions",
    "POST /v1/audio/translations",
    "POST /v1/audio/speech",
    "GET /v1/openapi.json",
    "GET /v1/docs",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
]


class RootView(RelayView):
    schema = None  # outside /v1/: not in the OpenAPI document
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
