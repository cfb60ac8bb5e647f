"""Per-request tracing at the ASGI edge: the request id, `x-relay-overhead-ms` and the access log.

It wraps the whole Django application, so every response (API, admin, Django's own 400s) carries
`x-request-id`, and the overhead clock starts before Django has read the request.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Awaitable, Callable

from api.observability import loop_monitor, metrics, request_trace
from core import broadcast

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

access_log = logging.getLogger("relay.access")


class TracingMiddleware:
    def __init__(self, app: ASGIApp, log_access: bool) -> None:
        self.app = app
        self.log_access = log_access
        self.watching_loop = False  # one daphne process serves from one loop

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.watching_loop:
            loop_monitor.ensure_started()
            broadcast.ensure_listening()  # cache signals from other processes (core/broadcast.py)
            self.watching_loop = True
        incoming = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        trace = request_trace.start(incoming)
        sent: dict[str, Any] = {}

        async def send_traced(message: Message) -> None:
            if message["type"] == "http.response.start":
                overhead = trace.overhead_ms()
                sent["status"], sent["overhead_ms"] = message["status"], overhead
                headers = list(message.get("headers") or ())
                headers.append((b"x-request-id", trace.request_id.encode()))
                headers.append((b"x-relay-overhead-ms", b"%.2f" % overhead))
                message = {**message, "headers": headers}
                if trace.call is not None:
                    metrics.observe_overhead(trace.call.endpoint, overhead / 1000)
            await send(message)

        try:
            await self.app(scope, receive, send_traced)
        finally:
            if self.log_access:
                _log_access(scope, trace, sent)


def _log_access(scope: Scope, trace: request_trace.Trace, sent: dict[str, Any]) -> None:
    """One line per request; the key is never in it (only the call's key fingerprint)."""
    status = sent.get("status", 0)
    fields: dict[str, Any] = {
        "method": scope.get("method"),
        "path": scope.get("path"),
        "status": status,
        "duration_ms": round((time.perf_counter() - trace.started) * 1000, 2),
        "overhead_ms": round(sent.get("overhead_ms", 0.0), 2),
        "upstream_ms": round(trace.upstream_seconds * 1000, 2),
    }
    call = trace.call
    if call is not None:
        fields.update(
            endpoint=call.endpoint,
            model=call.model,
            streamed=call.streamed,
            cut_short=call.cut_short,
            prompt_tokens=call.prompt_tokens,
            completion_tokens=call.completion_tokens,
            key_fingerprint=call.key_fingerprint,
        )
        if call.streamed:
            fields["status"] = call.status  # a stream that failed mid-way says so here
    access_log.info(
        "%s %s %s", fields["method"], fields["path"], fields["status"] or "-", extra={"fields": fields}
    )
