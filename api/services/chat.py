"""One chat completion: model check, image uploads, upstream call and translation back."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, AsyncIterator

from django.conf import settings

from api import image_inputs, onemin_client, token_counting
from api.call_context import CallContext
from api.errors import InvalidRequest, RelayError, UpstreamError
from api.model_registry import registry
from api.output_limits import OutputLimiter, limit_text
from api.request_schemas import ChatRequest
from api.streaming import DONE_FRAME, SSEDecoder, SSEEvent, data_frame
from api.translators import chat as tr
from api.translators.models import CHAT


@dataclass
class ChatResult:
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ChatStream:
    frames: AsyncIterator[bytes]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Prepared:
    body: dict[str, Any]
    messages: list[dict[str, Any]]
    model: str
    web_search: bool

    @cached_property
    def prompt_tokens(self) -> int:
        """Counted only when 1min.ai does not report the prompt's tokens (it usually does)."""
        return token_counting.count_messages(self.messages, self.model)


def _web_search(enabled: bool) -> dict[str, Any] | None:
    if not enabled:
        return None
    return tr.web_search_settings(True, settings.WEB_SEARCH_NUM_OF_SITE, settings.WEB_SEARCH_MAX_WORD)


def _without_web_search(body: dict[str, Any]) -> dict[str, Any]:
    prompt_object = dict(body["promptObject"])
    prompt_object["settings"] = {"webSearchSettings": tr.web_search_settings(False, 0, 0)}
    return {**body, "promptObject": prompt_object}


async def _prepare(request: ChatRequest, api_key: str) -> _Prepared:
    entry = await registry.resolve(request.upstream_model, CHAT)
    images = tr.image_urls(request.messages)
    if images and entry is not None and not entry["vision"]:
        raise InvalidRequest(
            f"The model `{request.upstream_model}` does not accept images; choose a vision model.",
            param="messages",
            code="model_not_vision_capable",
        )
    paths = await image_inputs.upload_images(api_key, images)
    body = tr.build_body(
        request.upstream_model,
        tr.build_prompt(request.messages),
        images=paths,
        web_search=_web_search(request.web_search),
    )
    return _Prepared(dict(body), request.messages, request.upstream_model, request.web_search)


def _ids() -> tuple[str, int]:
    return f"chatcmpl-{uuid.uuid4().hex}", int(time.time())


async def complete(request: ChatRequest, api_key: str, call: CallContext) -> ChatResult:
    call.model = request.upstream_model
    prepared = await _prepare(request, api_key)
    headers: dict[str, str] = {}
    try:
        payload = await onemin_client.post_json(settings.ONE_MIN_CHAT_API_URL, api_key, prepared.body)
    except InvalidRequest:
        if not prepared.web_search:
            raise
        # Web search fails for some models; answer without it and say so.
        payload = await onemin_client.post_json(
            settings.ONE_MIN_CHAT_API_URL, api_key, _without_web_search(prepared.body)
        )
        headers["X-WebSearch-Degraded"] = "true"
    record = tr.record_of(payload)
    text = tr.text_of(record)
    if text is None or record.get("status", "SUCCESS") not in ("SUCCESS", "COMPLETED"):
        raise UpstreamError("1min.ai returned no answer for this request.")
    limited, cut = limit_text(text, request.stop, request.max_tokens, request.upstream_model)
    metadata = tr.metadata_of(record)
    reason = cut or tr.finish_reason(metadata.get("finishReason"))
    usage = _usage(metadata, prepared, limited, request.upstream_model, exact=cut is None)
    call.note_usage(usage["prompt_tokens"], usage["completion_tokens"], _credits(metadata))
    completion_id, created = _ids()
    return ChatResult(
        tr.completion(completion_id, created, request.model, limited, reason, usage), headers
    )


def _credits(metadata: dict[str, Any]) -> int | None:
    try:
        return int(metadata["credit"]) if metadata.get("credit") is not None else None
    except (TypeError, ValueError):
        return None


def _usage(metadata: dict[str, Any], prepared: _Prepared, text: str, model: str, exact: bool) -> dict[str, Any]:
    """Upstream counts when it gave real ones; local counts otherwise, or for a cut answer."""
    upstream = tr.upstream_usage(metadata)
    prompt_tokens = (upstream[0] if upstream is not None else 0) or prepared.prompt_tokens
    if upstream is not None and exact and upstream[1] > 0:
        return tr.usage_object(prompt_tokens, upstream[1])
    return tr.usage_object(prompt_tokens, token_counting.count_text(text, model))


# ---- streaming -------------------------------------------------------------------------------

def _stream_error(message: str) -> RelayError:
    if "not supported" in message.lower() or "invalid" in message.lower():
        return InvalidRequest(f"1min.ai rejected the request: {message}", code="upstream_rejected")
    return UpstreamError(f"1min.ai failed: {message}")


async def _events(upstream: onemin_client.UpstreamStream) -> AsyncIterator[SSEEvent]:
    decoder = SSEDecoder()
    async for chunk in upstream.chunks():
        for event in decoder.feed(chunk):
            yield event
    for event in decoder.close():
        yield event


async def _open(body: dict[str, Any], api_key: str) -> tuple[onemin_client.UpstreamStream, AsyncIterator[SSEEvent], SSEEvent | None]:
    """Open the upstream stream and read up to its first event, so a failure can still be a status."""
    url = f"{settings.ONE_MIN_CHAT_API_URL}?isStreaming=true"
    upstream = await onemin_client.open_stream(url, api_key, body)
    events = _events(upstream)
    try:
        first = await anext(events, None)
        if first is not None and first.event == "error":
            raise _stream_error(tr.stream_error_message(first.json() or first.data))
        if first is None:
            raise UpstreamError("1min.ai closed the stream before sending anything.")
    except BaseException:
        await events.aclose()
        await upstream.aclose()
        raise
    return upstream, events, first


async def stream(request: ChatRequest, api_key: str, call: CallContext) -> ChatStream:
    call.model = request.upstream_model
    prepared = await _prepare(request, api_key)
    headers: dict[str, str] = {}
    try:
        upstream, events, first = await _open(prepared.body, api_key)
    except InvalidRequest:
        if not prepared.web_search:
            raise
        upstream, events, first = await _open(_without_web_search(prepared.body), api_key)
        headers["X-WebSearch-Degraded"] = "true"
    frames = _frames(request, prepared, upstream, events, first, call)
    return ChatStream(frames, headers)


async def _frames(
    request: ChatRequest,
    prepared: _Prepared,
    upstream: onemin_client.UpstreamStream,
    events: AsyncIterator[SSEEvent],
    first: SSEEvent | None,
    call: CallContext,
) -> AsyncIterator[bytes]:
    completion_id, created = _ids()
    model, usage_wanted = request.model, request.include_usage
    limiter = OutputLimiter(request.stop, request.max_tokens, request.upstream_model)
    upstream_text = ""
    held: str | None = None  # a content event equal to all text so far: maybe a duplicate
    metadata: dict[str, Any] = {}
    finished = False

    def content_frame(text: str) -> bytes:
        return data_frame(tr.chunk(completion_id, created, model, {"content": text}, None, usage_wanted))

    try:
        yield data_frame(tr.chunk(completion_id, created, model, {"role": "assistant", "content": ""}, None, usage_wanted))

        async def all_events() -> AsyncIterator[SSEEvent]:
            if first is not None:
                yield first
            async for event in events:
                yield event

        async for event in all_events():
            if event.event == "content":
                payload = event.json()
                delta = payload.get("content") if isinstance(payload, dict) else None
                if not isinstance(delta, str) or delta == "":
                    continue
                if held is not None:
                    upstream_text += held
                    out = limiter.feed(held)
                    held = None
                    if out:
                        yield content_frame(out)
                if upstream_text and delta == upstream_text:
                    held = delta
                    continue
                upstream_text += delta
                out = limiter.feed(delta)
                if out:
                    yield content_frame(out)
                if limiter.done:
                    break
            elif event.event == "result":
                record = tr.record_of(event.json())
                metadata = tr.metadata_of(record)
                if held is not None and tr.text_of(record) == upstream_text + held:
                    # The full text proves the repeat was real content, not a duplicate.
                    upstream_text += held
                    out, held = limiter.feed(held), None
                    if out:
                        yield content_frame(out)
            elif event.event == "done":
                finished = True
                break
            elif event.event == "error":
                message = tr.stream_error_message(event.json() or event.data)
                call.status = 502
                yield data_frame(_error_payload(f"1min.ai failed during the stream: {message}"))
                return
        if not finished and not metadata and not limiter.done:
            call.status = 502
            yield data_frame(_error_payload("The connection to 1min.ai ended before the answer was complete."))
            return
        tail = limiter.flush()
        if tail:
            yield content_frame(tail)
        reason = limiter.finish_reason or tr.finish_reason(metadata.get("finishReason"))
        yield data_frame(tr.chunk(completion_id, created, model, {}, reason, usage_wanted))
        usage = _usage(metadata, prepared, limiter.emitted, request.upstream_model, exact=limiter.finish_reason is None)
        call.note_usage(usage["prompt_tokens"], usage["completion_tokens"], _credits(metadata))
        if usage_wanted:
            yield data_frame(tr.usage_chunk(completion_id, created, model, usage))
        yield DONE_FRAME
    except RelayError as error:
        call.status = error.status
        yield data_frame(_error_payload(error.message, error.type, error.code))
    finally:
        if call.completion_tokens == 0 and limiter.emitted:
            # Cut short or failed mid-way: account for what was delivered.
            call.note_usage(prepared.prompt_tokens, token_counting.count_text(limiter.emitted, request.upstream_model))
        await events.aclose()
        await upstream.aclose()


def _error_payload(message: str, type_: str = "api_error", code: str | None = "upstream_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}
