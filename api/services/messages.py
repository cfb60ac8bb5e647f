"""One Anthropic Messages call: the upstream chat (api.services.unified_chat) in Anthropic's shapes."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from api import token_counting
from api.call_context import CallContext
from api.errors import RelayError, anthropic_body
from api.model_registry import registry
from api.output_limits import OutputLimiter
from api.request_schemas_anthropic import MessagesRequest
from api.services import unified_chat
from api.services.unified_chat import Prepared, TextStream
from api.streaming import event_frame
from api.translators import anthropic_request as areq
from api.translators import anthropic_response as ar
from api.translators.models import CHAT


@dataclass
class MessagesResult:
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class MessagesStream:
    frames: AsyncIterator[bytes]
    headers: dict[str, str] = field(default_factory=dict)


DEGRADED_HEADER = {"X-WebSearch-Degraded": "true"}


def _event(payload: dict[str, Any]) -> bytes:
    return event_frame(payload["type"], payload)


def chat_messages(request: MessagesRequest) -> list[dict[str, Any]]:
    return areq.to_chat_messages(request.system, request.messages)


async def _prepare(request: MessagesRequest, api_key: str) -> Prepared:
    return await unified_chat.prepare(request.upstream_model, chat_messages(request), request.web_search, api_key)


def _limiter(request: MessagesRequest) -> OutputLimiter:
    return OutputLimiter(request.stop_sequences, request.max_tokens, request.upstream_model)


async def create(request: MessagesRequest, api_key: str, call: CallContext) -> MessagesResult:
    call.model = request.upstream_model
    prepared = await _prepare(request, api_key)
    answer = await unified_chat.ask(prepared, api_key)
    limiter = _limiter(request)
    text = limiter.feed(answer.text) + limiter.flush()
    reason = ar.stop_reason(limiter.finish_reason, answer.metadata.get("finishReason"), limiter.matched_stop)
    input_tokens, output_tokens = unified_chat.token_usage(
        answer.metadata, prepared.count_prompt, text, request.upstream_model, exact=limiter.finish_reason is None
    )
    call.note_usage(input_tokens, output_tokens, unified_chat.credits_of(answer.metadata))
    body = ar.message(
        ar.message_id(), request.model, [ar.text_block(text)], reason, limiter.matched_stop,
        ar.usage(input_tokens, output_tokens),
    )
    return MessagesResult(body, DEGRADED_HEADER if answer.degraded else {})


# ---- streaming -------------------------------------------------------------------------------

async def stream(request: MessagesRequest, api_key: str, call: CallContext) -> MessagesStream:
    call.model = request.upstream_model
    prepared = await _prepare(request, api_key)
    upstream = await unified_chat.open_stream(prepared, api_key)
    # message_start carries the input tokens before 1min.ai has reported any: a local count.
    prompt_tokens = await asyncio.to_thread(lambda: prepared.prompt_tokens)
    frames = _frames(request, prepared, prompt_tokens, upstream, call)
    return MessagesStream(frames, DEGRADED_HEADER if upstream.degraded else {})


async def _frames(
    request: MessagesRequest, prepared: Prepared, prompt_tokens: int, upstream: TextStream, call: CallContext
) -> AsyncIterator[bytes]:
    limiter = _limiter(request)
    deltas = upstream.deltas()
    try:
        yield _event(ar.message_start(ar.message_id(), request.model, prompt_tokens))
        yield _event(ar.block_start(0, ar.text_block("")))
        yield _event(ar.PING)
        async for delta in deltas:
            out = limiter.feed(delta)
            if out:
                yield _event(ar.text_delta(0, out))
            if limiter.done:
                break
        tail = limiter.flush()
        if tail:
            yield _event(ar.text_delta(0, tail))
        yield _event(ar.block_stop(0))
        metadata = upstream.metadata
        reason = ar.stop_reason(limiter.finish_reason, metadata.get("finishReason"), limiter.matched_stop)
        input_tokens, output_tokens = unified_chat.token_usage(
            metadata, prompt_tokens, limiter.emitted, request.upstream_model, exact=limiter.finish_reason is None
        )
        call.note_usage(input_tokens, output_tokens, unified_chat.credits_of(metadata))
        yield _event(ar.message_delta(reason, limiter.matched_stop, input_tokens, output_tokens))
        yield _event(ar.MESSAGE_STOP)
    except RelayError as error:
        # After the first byte the status is sent; Anthropic's clients read an `error` event.
        call.status = error.status
        yield event_frame("error", anthropic_body(error))
    finally:
        if call.completion_tokens == 0 and limiter.emitted:
            call.note_usage(prompt_tokens, token_counting.count_text(limiter.emitted, request.upstream_model))
        await deltas.aclose()
        await upstream.aclose()


# ---- count_tokens ----------------------------------------------------------------------------

def _count(request: MessagesRequest) -> int:
    messages = chat_messages(request)
    tokens = token_counting.count_messages(messages, request.upstream_model)
    if request.tools is not None and request.tools.tools:
        definitions = [{"name": t.name, "description": t.description, "input_schema": t.parameters}
                       for t in request.tools.tools]
        tokens += token_counting.count_text(areq.tool_definitions_text(definitions), request.upstream_model)
    return tokens


async def count_tokens(request: MessagesRequest) -> dict[str, int]:
    """`{"input_tokens": N}` counted as the relay counts a prompt when 1min.ai reports none."""
    await registry.resolve(request.upstream_model, CHAT)
    # A long conversation (Claude Code sends ~50 KB) takes milliseconds to tokenize: off the loop.
    return {"input_tokens": await asyncio.to_thread(_count, request)}
