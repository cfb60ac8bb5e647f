"""The base of every /v1/ view: an async DRF view with no per-request thread hops."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, AsyncIterator

import orjson
from adrf.views import APIView
from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from api.observability import metrics, request_trace
from api.upstream import refused_keys
from core.call_context import CallContext, tracked
from core.identity import presented_key
from core.errors import NotFound, UpstreamKeyRefused
from core.upstream_key import UpstreamKey
from api.model_aliases import table as alias_table
from api.model_registry import default_model
from api.translators.models import CHAT
from api.services import response_store
from api.streaming import STREAM_HEADERS
from keys.callers import Caller, resolve_caller
from live import publisher as live_feed
from quotas import limits, usage
from quotas.client_identity import client_group, client_ip
from quotas.token_estimate import TEXT_GENERATION_PATHS, Estimate, from_body, with_history


class AcceptAnyAnswer(DefaultContentNegotiation):
    """The answer is JSON (or an event stream) whatever `Accept` asks for, as OpenAI's and
    Anthropic's APIs do: DRF's negotiation refused `Accept: text/event-stream` on a streamed chat
    with a 406. Request bodies are still parsed by their Content-Type."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class RelayView(APIView):
    """Each request gets `self.call`, a CallContext the service fills in and hooks read at the end."""

    endpoint = ""
    content_negotiation_class = AcceptAnyAnswer
    async def async_dispatch(self, request, *args, **kwargs):
        # adrf runs `initial()` through sync_to_async, i.e. on Django's one shared thread, which
        # serialises all requests. Ours has no sync auth, permission or throttle hooks, so it is
        # cheap CPU and runs inline on the event loop.
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        self.call = CallContext(endpoint=self.endpoint or request.path, client_ip=client_ip(request))
        self.call.on_finish(metrics.record_call)
        if settings.LIVE_VIEW and request.path.startswith("/v1/"):  # API calls, not probes or scrapes
            self.call.on_finish(live_feed.record_call)  # appends a tuple; published in batches
        request_trace.attach_call(self.call)
        self.admission: limits.Admission | None = None
        try:
            await self._resolve_caller(request)
            if self._caller is not None and self._caller.allowed_models:
                await alias_table.current()  # key_of() checks an alias's target, synchronously
            if settings.FRAMEWORK_FAST_PATHS:
                self.initial(request, *args, **kwargs)
            else:  # adrf's own way, the baseline bench/bypasses.py measures against
                await sync_to_async(self.initial)(request, *args, **kwargs)
            if request.path.startswith("/v1/"):
                await self.admit(request)
            handler = getattr(self, request.method.lower(), None)
            if request.method.lower() not in self.http_method_names or handler is None:
                handler = self.http_method_not_allowed
            response = handler(request, *args, **kwargs)
            if hasattr(response, "__await__"):
                response = await response
        except Exception as exc:  # noqa: BLE001 - rendered by the one exception handler
            if isinstance(exc, UpstreamKeyRefused) and self._caller is not None and self._caller.relay_key is None:
                await refused_keys.remember(self._caller.fingerprint)  # for GET /v1/models
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        if self.admission is not None:
            for name, value in self.admission.headers.items():
                self.response[name] = value
        self.call.status = self.response.status_code
        if not isinstance(self.response, StreamingHttpResponse):
            await self.call.finish()  # a stream's call finishes when `tracked` ends
        # DRF's request holds itself and this view in its parser_context: reference cycles that
        # leave each call's request, view and answer to the full garbage collections, about a
        # sixth of a call's CPU under load (docs/performance.md). The body is parsed by now.
        request.parser_context.pop("request", None)
        request.parser_context.pop("view", None)
        return self.response

    async def admit(self, request) -> None:
        """Record this call when it ends and count it against its client's limits, before any work.

        A JSON body is parsed here because its size in tokens is what gets reserved; one that does
        not parse still counts as a request, then fails as it would have. Other bodies (multipart
        uploads) are left to their views, which parse them their own way.
        """
        # Limits and usage follow the caller's identity: a relay key's own fingerprint in managed
        # mode, the client's 1min.ai key's fingerprint in passthrough; a refused key counts per IP.
        key = self._caller is not None
        if key:
            self.call.key_fingerprint = self._caller.fingerprint
            self.call.extra["policy"] = self._caller.policy  # a relay key's named quota policy
        usage.track(self.call)
        estimate, parse_error = Estimate(), None
        if key and request.method in ("POST", "PUT", "PATCH") and _is_json(request):
            try:
                estimate = await _estimate(self, request)
                history = await response_store.history_for_reservation(request.data, self.call.key_fingerprint)
                estimate = with_history(estimate, history.items if history is not None else [])
            except Exception as error:  # noqa: BLE001 - DRF forgets a parse error once raised
                parse_error = error
            else:
                # Kept for later steps, which then neither read the model nor count the messages again.
                call = self.call
                call.requested_model, call.reserved_prompt_tokens = estimate.model, estimate.prompt_tokens
                call.counted_messages, call.previous_history = estimate.counted_messages, history
                estimate = await _model_to_run(estimate, request.path)
        if estimate.model and not self.call.model:
            self.call.model = estimate.model  # so a refusal (429, 403, 413) is recorded with its model
        self.admission = await limits.admit(self.call, estimate)
        if parse_error is not None:
            raise parse_error

    def estimate(self, request) -> Estimate:
        """What this request may cost in tokens, from its parsed JSON body (views may refine it)."""
        return from_body(request.data, request.path in TEXT_GENERATION_PATHS)

    def stream_response(self, frames, headers: dict[str, str] | None = None) -> StreamingHttpResponse:
        """An event stream whose end (complete or cut short) finishes this call."""
        return event_stream(tracked(_counted_open(frames, metrics.endpoint_label(self.call.endpoint)), self.call), headers)

    async def _resolve_caller(self, request) -> None:
        # Resolved for every request because key_of() is synchronous; an error is kept for
        # key_of(), so views that need no key (GET /, unknown URLs) never see it.
        self._caller: Caller | None = None
        self._caller_error: Exception | None = None
        try:
            self._caller = await resolve_caller(presented_key(request), client_group(self.call.client_ip))
        except Exception as error:  # noqa: BLE001 - raised again by key_of()
            self._caller_error = error

    @property
    def caller(self) -> Caller:
        """Who is calling (keys.callers.Caller); raises the 401 when the key was refused."""
        if self._caller is None:
            raise self._caller_error or RuntimeError("caller not resolved")
        return self._caller

    def key_of(self, request) -> UpstreamKey:
        """The 1min.ai key to forward for this caller: the client's own, or one from the pool
        for a relay key (401 for a missing or refused key, 403 for a model it may not use).
        The call records only the caller's fingerprint."""
        caller = self.caller
        self.call.key_fingerprint = caller.fingerprint
        if caller.allowed_models:
            # Read from a JSON body by admit(). Other bodies (multipart audio) name none here; the
            # pool lease still refuses their model before 1min.ai is asked to run it.
            model = self.call.requested_model
            if model:
                # Allowed models are 1min.ai ids: an alias is judged by the model it calls.
                caller.check_model(alias_table.cached().get(model, model))
        return caller.upstream_key


async def _model_to_run(estimate: Estimate, path: str) -> Estimate:
    """The estimate naming the 1min.ai model the call will run (default, then alias), so a quota
    policy's allowed models judge that model, not a name that stands for another."""
    model = estimate.model or (default_model(CHAT) if path in TEXT_GENERATION_PATHS else None)
    if not model:
        return estimate
    target = (await alias_table.current()).get(model, model)
    return replace(estimate, model=target) if target != estimate.model else estimate


# Bodies past this size are parsed and counted on a worker thread: an 18 MB prompt takes over a
# second of tokenizer CPU, which on the event loop would stall every other request.
OFF_LOOP_BODY_BYTES = 64 * 1024


async def _estimate(view, request) -> Estimate:
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > OFF_LOOP_BODY_BYTES:
        return await sync_to_async(lambda: view.estimate(request), thread_sensitive=False)()
    return view.estimate(request)


def _is_json(request) -> bool:
    media_type = (request.content_type or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


async def _counted_open(frames: AsyncIterator[bytes], endpoint: str) -> AsyncIterator[bytes]:
    """Count the stream as open from its first frame until it ends, however it ends."""
    metrics.stream_opened(endpoint)
    live = settings.LIVE_VIEW
    if live:
        live_feed.stream_opened(endpoint)
    try:
        async for frame in frames:
            yield frame
    finally:
        metrics.stream_closed(endpoint)
        if live:
            live_feed.stream_closed(endpoint)
        close = getattr(frames, "aclose", None)
        if close is not None:
            await close()


def json_response(body: Any, headers: dict[str, str] | None = None, status: int = 200) -> HttpResponse:
    """A JSON answer encoded right here: a DRF Response would be rendered later in a thread hop."""
    if not settings.FRAMEWORK_FAST_PATHS:  # DRF's own Response, the baseline of bench/bypasses.py
        return Response(body, status=status, headers=headers)
    try:
        content = orjson.dumps(body, default=_json_fallback)
    except TypeError:  # an integer past 64 bits (a client's own value, echoed): the stdlib encodes it
        content = _drf_encoder.encode(body).encode()
    return HttpResponse(content, status=status, headers=headers, content_type="application/json")


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
