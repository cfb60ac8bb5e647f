"""The base of every /v1/ view: an async DRF view with no per-request thread hops."""
from __future__ import annotations

from typing import Any, AsyncIterator

import orjson
from adrf.views import APIView
from django.http import HttpResponse, StreamingHttpResponse
from rest_framework.utils.encoders import JSONEncoder

from api import metrics, request_trace
from api.call_context import CallContext, tracked
from api.client_key import fingerprint
from api.errors import NotFound
from api.streaming import STREAM_HEADERS


class RelayView(APIView):
    """Each request gets `self.call`, a CallContext the service fills in and hooks read at the end."""

    endpoint = ""
    async def async_dispatch(self, request, *args, **kwargs):
        # adrf runs `initial()` through sync_to_async, i.e. on Django's one shared thread, which
        # serialises all requests. Ours has no sync auth, permission or throttle hooks, so it is
        # cheap CPU and runs inline on the event loop.
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        self.call = CallContext(endpoint=self.endpoint or request.path)
        self.call.on_finish(metrics.record_call)
        request_trace.attach_call(self.call)
        try:
            self.initial(request, *args, **kwargs)
            handler = getattr(self, request.method.lower(), None)
            if request.method.lower() not in self.http_method_names or handler is None:
                handler = self.http_method_not_allowed
            response = handler(request, *args, **kwargs)
            if hasattr(response, "__await__"):
                response = await response
        except Exception as exc:  # noqa: BLE001 - rendered by the one exception handler
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        self.call.status = self.response.status_code
        if not isinstance(self.response, StreamingHttpResponse):
            await self.call.finish()  # a stream's call finishes when `tracked` ends
        return self.response

    def stream_response(self, frames, headers: dict[str, str] | None = None) -> StreamingHttpResponse:
        """An event stream whose end (complete or cut short) finishes this call."""
        return event_stream(tracked(_counted_open(frames, metrics.endpoint_label(self.call.endpoint)), self.call), headers)

    def key_of(self, request) -> str:
        """The caller's API key (401 if none); the call records only its fingerprint."""
        from api.client_key import api_key_of

        key = api_key_of(request)
        self.call.key_fingerprint = fingerprint(key)
        return key


async def _counted_open(frames: AsyncIterator[bytes], endpoint: str) -> AsyncIterator[bytes]:
    """Count the stream as open from its first frame until it ends, however it ends."""
    metrics.stream_opened(endpoint)
    try:
        async for frame in frames:
            yield frame
    finally:
        metrics.stream_closed(endpoint)
        close = getattr(frames, "aclose", None)
        if close is not None:
            await close()


def json_response(body: Any, headers: dict[str, str] | None = None, status: int = 200) -> HttpResponse:
    """A JSON answer encoded right here: a DRF Response would be rendered later in a thread hop."""
    return HttpResponse(
        orjson.dumps(body, default=_json_fallback), status=status, headers=headers,
        content_type="application/json",
    )


_drf_encoder = JSONEncoder()


def _json_fallback(value: Any) -> Any:
    """What orjson does not know (Decimal, lazy strings, ...) is encoded as DRF would."""
    return _drf_encoder.default(value)


def event_stream(frames, headers: dict[str, str] | None = None) -> StreamingHttpResponse:
    response = StreamingHttpResponse(frames, content_type="text/event-stream; charset=utf-8")
    for name, value in {**STREAM_HEADERS, **(headers or {})}.items():
        response[name] = value
    return response


class UnknownEndpointView(RelayView):
    """Any /v1/ path we do not serve: a 404 in the OpenAI envelope, whatever the method."""

    endpoint = "unknown"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    schema = None  # not an endpoint: left out of the OpenAPI document

    async def _missing(self, request, *args, **kwargs) -> HttpResponse:
        raise NotFound(f"Unknown endpoint: {request.method} {request.path}.", code="unknown_url")

    get = post = put = patch = delete = head = options = _missing
