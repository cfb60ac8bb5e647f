"""One Anthropic Messages call: the shared text turn (api.services.tool_turn, unified_chat) in Anthropic's shapes."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from typing import Any, AsyncIterator

from core import token_counting
from core.call_context import CallContext
from core.errors import RelayError, ToolCallFailed, anthropic_body
from core.upstream_key import UpstreamKey
from api.model_registry import resolve_model
from api.output_limits import OutputLimiter
from api.request_schemas.anthropic import MessagesRequest
from api.services import tool_turn, unified_chat
from api.services.tool_turn import Outcome, TextDelta, ToolStream
from api.services.unified_chat import Prepared, TextStream
from api.streaming import event_frame
from api.tool_emulation import prompt as tool_prompt
from api.tool_emulation.spec import ToolCall, ToolSpec
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


NO_TOOLS = ToolSpec(())


def _spec(request: MessagesRequest) -> ToolSpec:
    return request.tools or NO_TOOLS


async def _prepare(request: MessagesRequest, upstream_key: UpstreamKey) -> Prepared:
    # Through the tool engine even without tools: earlier tool_use/tool_result turns are then
    # written in the one calling convention the model is taught.
    return await tool_turn.prepare(
        request.upstream_model, chat_messages(request), _spec(request), request.web_search, upstream_key
    )


def _tool_block(call: ToolCall) -> dict[str, Any]:
    return ar.tool_use_block(ar.tool_use_id(call.id), call.name, call.arguments)


def _limiter(request: MessagesRequest) -> OutputLimiter:
    return OutputLimiter(request.stop_sequences, request.max_tokens, request.upstream_model)


async def create(request: MessagesRequest, upstream_key: UpstreamKey, call: CallContext) -> MessagesResult:
    request = await unified_chat.resolve_request(request, call)
    prepared = await _prepare(request, upstream_key)
    if _spec(request).active:
        return await _create_with_tools(request, prepared, upstream_key, call)
    answer = await unified_chat.ask(prepared, upstream_key)
    limiter = _limiter(request)
    text = await limiter.feed_async(answer.text) + await limiter.flush_async()
    reason = ar.stop_reason(limiter.finish_reason, answer.metadata.get("finishReason"), limiter.matched_stop)
    input_tokens, output_tokens = await unified_chat.token_usage(
        answer.metadata, prepared, text, request.upstream_model, exact=limiter.finish_reason is None
    )
    call.note_usage(input_tokens, output_tokens, unified_chat.credits_of(answer.metadata))
    body = ar.message(
        ar.message_id(), request.model, [ar.text_block(text)], reason, limiter.matched_stop,
        ar.usage(input_tokens, output_tokens),
    )
    return MessagesResult(body, DEGRADED_HEADER if answer.degraded else {})


async def _tool_outcome(prepared: Prepared, spec: ToolSpec, upstream_key: UpstreamKey, call: CallContext) -> Outcome:
    try:
        return await tool_turn.answer(prepared, spec, upstream_key)
    except ToolCallFailed as error:
        call.note_usage(*error.usage)  # the upstream calls were made and billed
        raise


async def _create_with_tools(
    request: MessagesRequest, prepared: Prepared, upstream_key: UpstreamKey, call: CallContext
) -> MessagesResult:
    outcome = await _tool_outcome(prepared, _spec(request), upstream_key, call)
    output_tokens, sequence = outcome.output_tokens, None
    if outcome.calls:
        text, reason = outcome.text, "tool_use"
    else:
        limiter = _limiter(request)
        text = await limiter.feed_async(outcome.text) + await limiter.flush_async()
        reason, sequence = ar.stop_reason(limiter.finish_reason, outcome.finish_reason, limiter.matched_stop), limiter.matched_stop
        if limiter.finish_reason is not None:
            output_tokens = await token_counting.count_text_async(text, request.upstream_model)
    call.note_usage(outcome.input_tokens, output_tokens, outcome.credits)
    content = ([ar.text_block(text)] if text or not outcome.calls else []) + [_tool_block(c) for c in outcome.calls]
    body = ar.message(ar.message_id(), request.model, content, reason, sequence, ar.usage(outcome.input_tokens, output_tokens))
    return MessagesResult(body, DEGRADED_HEADER if outcome.degraded else {})


# ---- streaming -------------------------------------------------------------------------------

async def stream(request: MessagesRequest, upstream_key: UpstreamKey, call: CallContext) -> MessagesStream:
    request = await unified_chat.resolve_request(request, call)
    prepared = await _prepare(request, upstream_key)
    if _spec(request).active:
        return await _stream_with_tools(request, prepared, upstream_key, call)
    upstream = await unified_chat.open_stream(prepared, upstream_key)
    frames = _frames(request, prepared, upstream, call)
    return MessagesStream(frames, DEGRADED_HEADER if upstream.degraded else {})


def _start(request: MessagesRequest, call: CallContext) -> bytes:
    # message_start carries the input tokens before 1min.ai has reported any: an estimate, and
    # admission's count of this body (the reservation's) is one already made. The final usage
    # is 1min.ai's, or else the prompt as sent counted (what count_tokens answers).
    return _event(ar.message_start(ar.message_id(), request.model, call.reserved_prompt_tokens))


async def _frames(
    request: MessagesRequest, prepared: Prepared, upstream: TextStream, call: CallContext
) -> AsyncIterator[bytes]:
    limiter = _limiter(request)
    deltas = upstream.deltas()
    try:
        # Frames ready at the same moment go out in one write.
        yield _start(request, call) + _event(ar.block_start(0, ar.text_block(""))) + _event(ar.PING)
        async for delta in deltas:
            out = await limiter.feed_async(delta)
            if out:
                yield _event(ar.text_delta(0, out))
            if limiter.done:
                break
        tail = await limiter.flush_async()
        if tail:
            yield _event(ar.text_delta(0, tail))
        metadata = upstream.metadata
        reason = ar.stop_reason(limiter.finish_reason, metadata.get("finishReason"), limiter.matched_stop)
        input_tokens, output_tokens = await unified_chat.token_usage(
            metadata, prepared, limiter.emitted, request.upstream_model, exact=limiter.finish_reason is None
        )
        call.note_usage(input_tokens, output_tokens, unified_chat.credits_of(metadata))
        yield (_event(ar.block_stop(0)) + _event(ar.message_delta(reason, limiter.matched_stop, input_tokens, output_tokens))
               + _event(ar.MESSAGE_STOP))
    except RelayError as error:
        # After the first byte the status is sent; Anthropic's clients read an `error` event.
        call.status = error.status
        yield event_frame("error", anthropic_body(error))
    finally:
        if call.completion_tokens == 0 and limiter.emitted:
            call.note_usage(await prepared.count_prompt(), await token_counting.count_text_async(limiter.emitted, request.upstream_model))
        await deltas.aclose()
        await upstream.aclose()


async def _stream_with_tools(
    request: MessagesRequest, prepared: Prepared, upstream_key: UpstreamKey, call: CallContext
) -> MessagesStream:
    try:
        turn = await tool_turn.open_stream(prepared, _spec(request), upstream_key)
    except ToolCallFailed as error:
        call.note_usage(*error.usage)
        raise
    return MessagesStream(_tool_frames(request, prepared, turn, call), DEGRADED_HEADER if turn.degraded else {})


async def _tool_frames(
    request: MessagesRequest, prepared: Prepared, turn: ToolStream, call: CallContext
) -> AsyncIterator[bytes]:
    """Text as it may be shown, then each recognised call as a tool_use block with its input
    streamed as input_json_delta; stop_reason `tool_use` when there were calls."""
    limiter = _limiter(request)
    index, text_open, calls = -1, False, 0
    events = turn.events()

    def opened(block: dict[str, Any]) -> list[bytes]:
        nonlocal index
        index += 1
        frames = [_event(ar.block_start(index, block))]
        return frames + [_event(ar.PING)] if index == 0 else frames

    async def close_text() -> list[bytes]:
        nonlocal text_open
        if not text_open:
            return []
        text_open = False
        tail = await limiter.flush_async()
        return ([_event(ar.text_delta(index, tail))] if tail else []) + [_event(ar.block_stop(index))]

    try:
        yield _start(request, call)
        async for event in events:
            if isinstance(event, TextDelta):
                out = await limiter.feed_async(event.text)
                if out:
                    if not text_open:
                        for frame in opened(ar.text_block("")):
                            yield frame
                        text_open = True
                    yield _event(ar.text_delta(index, out))
                if limiter.done:
                    break  # a stop sequence or max_tokens ends the answer, calls after it too
            else:
                for frame in await close_text():
                    yield frame
                index += 1
                for i, piece in enumerate(ar.tool_use_events(index, _tool_block(event.call))):
                    yield _event(piece)
                    if i == 0 and index == 0:
                        yield _event(ar.PING)
                calls += 1
        for frame in await close_text():
            yield frame
        if index < 0:
            for frame in opened(ar.text_block("")) + [_event(ar.block_stop(0))]:
                yield frame
        outcome = turn.outcome if not limiter.done else None
        if outcome is not None and limiter.finish_reason is None:
            input_tokens, output_tokens, credits = outcome.input_tokens, outcome.output_tokens, outcome.credits
        else:
            input_tokens, credits = await prepared.count_prompt(), None
            output_tokens = await token_counting.count_text_async(limiter.emitted, request.upstream_model)
        call.note_usage(input_tokens, output_tokens, credits)
        reason = "tool_use" if calls else ar.stop_reason(
            limiter.finish_reason, outcome.finish_reason if outcome else None, limiter.matched_stop)
        yield _event(ar.message_delta(reason, limiter.matched_stop, input_tokens, output_tokens))
        yield _event(ar.MESSAGE_STOP)
    except RelayError as error:
        call.status = error.status
        yield event_frame("error", anthropic_body(error))
    finally:
        if call.completion_tokens == 0 and limiter.emitted:
            call.note_usage(await prepared.count_prompt(), await token_counting.count_text_async(limiter.emitted, request.upstream_model))
        await events.aclose()
        await turn.aclose()


# ---- count_tokens ----------------------------------------------------------------------------

def _count(request: MessagesRequest) -> int:
    # The conversation as the model would get it (tool instructions included), counted the way
    # usage is counted when 1min.ai reports no tokens. Its only count: admission reserves no
    # tokens for count_tokens (api.views.messages.CountTokensView.estimate).
    messages = tool_prompt.conversation(chat_messages(request), _spec(request))
    return token_counting.count_messages(messages, request.upstream_model)


async def count_tokens(request: MessagesRequest) -> dict[str, int]:
    """`{"input_tokens": N}` counted as the relay counts a prompt when 1min.ai reports none."""
    resolved = await resolve_model(request.upstream_model, CHAT)
    request = replace(request, upstream_model=resolved.target)
    # A long conversation (Claude Code sends ~50 KB) takes milliseconds to tokenize: off the loop.
    return {"input_tokens": await asyncio.to_thread(_count, request)}
