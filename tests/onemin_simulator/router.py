"""Routes each request: recording, API-KEY check, rate limit, failure scripts, then the handler."""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

from . import assets, chat, control, conversations, features, files, multipart
from .context import Ctx, Reply
from .envelopes import ApiError, error_response, scripted_error
from .sse import error_stream, garbage_stream
from .state import SimState
from .wire import HttpRequest, Response, StreamResponse, json_response

Handler = Callable[[Ctx], Reply]


@dataclass
class Route:
    methods: tuple[str, ...]
    pattern: re.Pattern[str]
    handler: Handler
    needs_key: bool = False
    billable: bool = False


def models_handler(ctx: Ctx) -> Reply:
    if ctx.config["models_fail"]:
        err = ApiError(503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable")
        return error_response(err, ctx.config["error_envelope"])
    models = ctx.state.catalogue.for_feature(ctx.request.query.get("feature"))
    return json_response({"models": models, "total": len(models)})


ROUTES = [
    Route(("POST",), re.compile(r"/api/chat-with-ai"), chat.handle, True, True),
    Route(("POST",), re.compile(r"/api/features"), features.handle, True, True),
    Route(("POST",), re.compile(r"/api/assets"), assets.upload, True),
    Route(("POST",), re.compile(r"/api/conversations"), conversations.create, True),
    Route(("DELETE",), re.compile(r"/api/conversations/(?P<uuid>[^/]+)"), conversations.delete,
          True),
    Route(("GET",), re.compile(r"/models"), models_handler),
    Route(("GET", "HEAD"), re.compile(r"/public/(?P<path>.+)"), files.public),
    Route(("GET", "HEAD"), re.compile(r"/tmp/(?P<path>.+)"), files.temporary),
    Route(("GET", "HEAD"), re.compile(r"/cdn/(?P<path>.+)"), files.cdn),
    Route(("GET", "HEAD"), re.compile(r"/redirect"), files.redirect),
]


def build_record(request: HttpRequest) -> dict[str, Any]:
    """The dict tests read from sim.requests (see README, "Recorded requests")."""
    content_type = request.header("content-type", "") or ""
    parsed: Any = None
    json_error = False
    # Like the real (Express) server: a body is JSON only when the client says so.
    if "json" in content_type.lower() and request.body:
        try:
            parsed = json.loads(request.body)
        except ValueError:
            json_error = True
    form = None
    if content_type.lower().startswith("multipart/form-data"):
        form = multipart.parse(request.body, content_type)
    return {
        "method": request.method, "path": request.path, "target": request.target,
        "query": dict(request.query), "headers": dict(request.headers), "json": parsed,
        "json_error": json_error, "body": request.body, "form": form, "time": time.time(),
        "peer": request.peer,
        "attachments_seen": [], "files_seen": [], "history_used": None,
        "response_status": None, "stream_write_sizes": None,
        "stream_closed_by_client": False, "client_disconnected": False,
    }


def match_text(request: HttpRequest, record: dict[str, Any]) -> str:
    """The text a script's prompt_contains is matched against (see README)."""
    body: dict[str, Any] = record["json"] if isinstance(record["json"], dict) else {}
    prompt_object: dict[str, Any] = {}
    if isinstance(body.get("promptObject"), dict):
        prompt_object = body["promptObject"]
    if request.path == "/api/chat-with-ai":
        prompt = prompt_object.get("prompt")
        return prompt if isinstance(prompt, str) else ""
    if request.path == "/api/features":
        parts = [body.get("type"), body.get("model"), prompt_object.get("prompt"),
                 prompt_object.get("text"), prompt_object.get("audioUrl")]
        return "\n".join(p for p in parts if isinstance(p, str))
    if record["form"]:
        return "\n".join(f["filename"] or "" for f in record["form"]["files"])
    return request.body.decode("utf-8", "replace")


def preempts(reply: dict[str, Any], streaming: bool) -> bool:
    """Failure scripts answer before validation; success scripts wait for a valid request."""
    status = reply.get("status")
    return bool((status is not None and int(status) >= 400) or reply.get("error_code")
                or reply.get("invalid_json")
                or (streaming and reply.get("stream_error_before") is not None))


def scripted_failure(ctx: Ctx, reply: dict[str, Any], streaming: bool) -> Reply:
    delay_headers = int(reply.get("delay_headers_ms") or 0)
    delay_body = int(reply.get("delay_body_ms") or 0)
    headers = dict(reply.get("headers") or {})
    if reply.get("status") is not None and int(reply["status"]) >= 400 or reply.get("error_code"):
        err, envelope = scripted_error(reply, ctx.config)
        return error_response(err, envelope, headers=headers, delay_headers_ms=delay_headers,
                              delay_body_ms=delay_body)
    if reply.get("invalid_json"):
        if streaming:
            return garbage_stream(reply, ctx.config)
        return Response(200, b"<html><body>upstream returned something that is not JSON",
                        headers=headers, delay_headers_ms=delay_headers, delay_body_ms=delay_body)
    return error_stream(str(reply["stream_error_before"]), reply, ctx.config)


class Router:
    def __init__(self, state: SimState) -> None:
        self.state = state

    async def dispatch(self, request: HttpRequest) -> Reply:
        if request.path.startswith("/_sim/"):
            return control.handle(self.state, request)
        record = self.state.record(build_record(request))
        reply = self._route(request, record)

        def done(outcome: dict[str, Any]) -> None:
            closed = outcome["client_closed"]
            fields: dict[str, Any] = {"client_disconnected": closed,
                                      "stream_write_sizes": outcome["write_sizes"]}
            if isinstance(reply, StreamResponse):
                fields["stream_closed_by_client"] = closed
            self.state.annotate(record, **fields)

        reply.on_done = done
        self.state.annotate(record, response_status=reply.status)
        return reply

    def _route(self, request: HttpRequest, record: dict[str, Any]) -> Reply:
        route, params = self._match(request)
        if route is None:
            return json_response({"message": f"Cannot {request.method} {request.path}",
                                  "error": "Not Found", "statusCode": 404}, 404)
        ctx = Ctx(self.state, request, record, self.state.snapshot_config(), params=params)
        envelope = ctx.config["error_envelope"]
        if route.needs_key:
            refusal = self._gate(ctx)
            if refusal is not None:
                return refusal
        ctx.match_text = match_text(request, record)
        streaming = request.path == "/api/chat-with-ai" and ctx.streaming
        script = self.state.peek_script(request.path, ctx.match_text)
        if script is not None and preempts(script.reply, streaming):
            return scripted_failure(ctx, self.state.consume_script(script), streaming)
        if route.billable and ctx.config["insufficient_credits"]:
            status = int(ctx.config["insufficient_credits_status"])
            return error_response(ApiError(status, "INSUFFICIENT_CREDITS", "Not enough credits"),
                                  envelope)
        try:
            return route.handler(ctx)
        except ApiError as err:
            return error_response(err, envelope)

    def _gate(self, ctx: Ctx) -> Optional[Reply]:
        """API-KEY check (never Authorization) and the per-key rate limit."""
        key = ctx.request.header("api-key") or ""
        if not self._key_ok(key, ctx.config):
            err = ApiError(401, "UNAUTHORIZED", "Invalid or missing API key")
            return error_response(err, ctx.config["error_envelope"])
        ctx.api_key = key
        wait = self.state.hit_rate_limit(key)
        if wait is not None:
            err = ApiError(429, "RATE_LIMITED", "Too many requests",
                           headers={"Retry-After": str(wait)})
            return error_response(err, ctx.config["rate_limit_envelope"])
        return None

    def _key_ok(self, key: str, config: dict[str, Any]) -> bool:
        if not key:
            return False
        with self.state.lock:
            if key in self.state.valid_keys:
                return True
        return bool(config["accept_any_key"]) and not key.startswith("bad")

    @staticmethod
    def _match(request: HttpRequest) -> tuple[Optional[Route], dict[str, str]]:
        for route in ROUTES:
            found = route.pattern.fullmatch(request.path)
            if found and request.method in route.methods:
                return route, found.groupdict()
        return None, {}
