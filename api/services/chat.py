"""One chat completion: the upstream call (api.services.unified_chat, or api.services.tool_turn when
tools are declared) translated to OpenAI's shapes."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from api import structured_output as so
from core import token_counting
from core.call_context import CallContext
from core.errors import RelayError, StructuredOutputFailed, ToolCallFailed
from core.upstream_key import UpstreamKey
from api.output_limits import OutputLimiter, limit_text_async
from api.request_schemas.text import ChatRequest
from api.services import structured_turn, tool_turn, unified_chat
from api.services.unified_chat import Prepared, TextStream
from api.streaming import DONE_FRAME, data_frame
from api.tool_emulation.spec import ToolSpec
from api.translators import chat as tr
from api.translators import chat_tools


@dataclass
class ChatResult:
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ChatStream:
    frames: AsyncIterator[bytes]
    headers: dict[str, str] = field(default_factory=dict)


DEGRADED_HEADER = {"X-WebSearch-Degraded": "true"}


NO_TOOLS = ToolSpec(())


async def _prepare(request: ChatRequest, upstream_key: UpstreamKey, call: CallContext) -> Prepared:
    # History calls and results are written in the calling convention even when no tool is declared now.
    spec = request.tools or NO_TOOLS
    messages = so.with_instructions(request.messages, request.response_format)
    return await tool_turn.prepare(request.upstream_model, messages, spec, request.web_search, upstream_key,
                                   counted=call.counted_messages)


def _active_tools(request: ChatRequest) -> ToolSpec | None:
    return request.tools if request.tools is not None and request.tools.active else None


def _ids() -> tuple[str, int]:
    return f"chatcmpl-{uuid.uuid4().hex}", int(time.time())


async def _usage(metadata: dict[str, Any], prompt: Prepared | int, text: str, model: str, exact: bool) -> dict[str, Any]:
    return tr.usage_object(*await unified_chat.token_usage(metadata, prompt, text, model, exact))


async def _structured(request: ChatRequest, upstream_key: UpstreamKey,
                      call: CallContext) -> tuple[str, str, dict[str, Any], bool]:
    """A JSON answer (checked, repaired once) as (text, finish reason, usage, degraded); raises
    StructuredOutputFailed, after counting what the calls used, when it stays invalid."""
    prepared = await _prepare(request, upstream_key, call)
    outcome = await structured_turn.answer(prepared, request.response_format, upstream_key)
    call.note_usage(outcome.input_tokens, outcome.output_tokens, outcome.credits)
    if outcome.text is None:
        raise StructuredOutputFailed(outcome.error or "")
    limited, cut = await limit_text_async(outcome.text, request.stop, request.max_tokens, request.upstream_model)
    output_tokens = await token_counting.count_text_async(limited, request.upstream_model) if cut else outcome.output_tokens
    if cut:
        call.note_usage(outcome.input_tokens, output_tokens, outcome.credits)
    reason = cut or tr.finish_reason(outcome.metadata.get("finishReason"))
    return limited, reason, tr.usage_object(outcome.input_tokens, output_tokens), outcome.degraded


async def complete(request: ChatRequest, upstream_key: UpstreamKey, call: CallContext) -> ChatResult:
    request = await unified_chat.resolve_request(request, call)
    completion_id, created = _ids()
    if request.response_format.is_json and _active_tools(request) is None:
        text, reason, usage, degraded = await _structured(request, upstream_key, call)
        body = tr.completion(completion_id, created, request.model, text, reason, usage)
        return ChatResult(body, DEGRADED_HEADER if degraded else {})
    prepared = await _prepare(request, upstream_key, call)
    spec = _active_tools(request)
    if spec is not None:
        return await _complete_with_tools(request, spec, prepared, upstream_key, call)
    answer = await unified_chat.ask(prepared, upstream_key)
    limited, cut = await limit_text_async(answer.text, request.stop, request.max_tokens, request.upstream_model)
    reason = cut or tr.finish_reason(answer.metadata.get("finishReason"))
    usage = await _usage(answer.metadata, prepared, limited, request.upstream_model, exact=cut is None)
    call.note_usage(usage["prompt_tokens"], usage["completion_tokens"], unified_chat.credits_of(answer.metadata))
    return ChatResult(
        tr.completion(completion_id, created, request.model, limited, reason, usage),
        DEGRADED_HEADER if answer.degraded else {},
    )


async def _tool_outcome(prepared: Prepared, spec: ToolSpec, upstream_key: UpstreamKey, call: CallContext, opener):
    try:
        return await opener(prepared, spec, upstream_key)
    except ToolCallFailed as error:
        call.note_usage(*error.usage)  # both upstream calls were made and are paid for
        raise


async def _cut_output(outcome: tool_turn.Outcome, limited: str, model: str) -> int:
    """Output tokens once the text was cut locally: the repair's tokens stay, the cut text counts as sent."""
    dropped = await token_counting.count_text_async(outcome.text, model) - await token_counting.count_text_async(limited, model)
    return max(0, outcome.output_tokens - dropped)


async def _tool_answer(request: ChatRequest, spec: ToolSpec, prepared: Prepared, upstream_key: UpstreamKey,
                       call: CallContext) -> tool_turn.Outcome:
    """A tool turn answered whole; with a JSON `response_format` a text answer is then held to it
    (cleaned, checked, repaired once) like any structured answer."""
    outcome = await _tool_outcome(prepared, spec, upstream_key, call, tool_turn.answer)
    if outcome.calls or not request.response_format.is_json:
        return outcome
    settled = await structured_turn.settle(prepared, request.response_format, structured_turn.Outcome(
        outcome.text, outcome.input_tokens, outcome.output_tokens, outcome.credits, outcome.degraded), upstream_key)
    outcome.input_tokens, outcome.output_tokens, outcome.credits = settled.input_tokens, settled.output_tokens, settled.credits
    if settled.text is None:
        call.note_usage(outcome.input_tokens, outcome.output_tokens, outcome.credits)
        raise StructuredOutputFailed(settled.error or "")
    if settled.repaired:
        outcome.finish_reason = settled.metadata.get("finishReason")
    outcome.text = settled.text
    return outcome


async def _complete_with_tools(
    request: ChatRequest, spec: ToolSpec, prepared: Prepared, upstream_key: UpstreamKey, call: CallContext
) -> ChatResult:
    outcome = await _tool_answer(request, spec, prepared, upstream_key, call)
    completion_id, created = _ids()
    headers = DEGRADED_HEADER if outcome.degraded else {}
    if outcome.calls:
        usage = tr.usage_object(outcome.input_tokens, outcome.output_tokens)
        body = tr.completion(completion_id, created, request.model, "", chat_tools.finish_reason(request.legacy_functions), usage)
        body["choices"][0]["message"] = chat_tools.calls_message(outcome.calls, outcome.text, request.legacy_functions)
    else:
        limited, cut = await limit_text_async(outcome.text, request.stop, request.max_tokens, request.upstream_model)
        output = outcome.output_tokens if cut is None else await _cut_output(outcome, limited, request.upstream_model)
        usage = tr.usage_object(outcome.input_tokens, output)
        body = tr.completion(completion_id, created, request.model, limited, cut or tr.finish_reason(outcome.finish_reason), usage)
    call.note_usage(usage["prompt_tokens"], usage["completion_tokens"], outcome.credits)
    return ChatResult(body, headers)


# ---- streaming -------------------------------------------------------------------------------

async def stream(request: ChatRequest, upstream_key: UpstreamKey, call: CallContext) -> ChatStream:
    """Stream a completion. Any failure before the first byte is raised here, as an HTTP error.

    JSON formats are answered whole first (checked, maybe repaired, before any of it is sent), so
    a reply that stays invalid is an HTTP error too; the valid JSON is then sent as one delta.
    """
    request = await unified_chat.resolve_request(request, call)
    spec = _active_tools(request)
    if request.response_format.is_json and spec is None:
        text, reason, usage, degraded = await _structured(request, upstream_key, call)
        return ChatStream(_replay(request, text, reason, usage), DEGRADED_HEADER if degraded else {})
    prepared = await _prepare(request, upstream_key, call)
    if spec is not None and request.response_format.is_json:
        # A text answer must be checked JSON: the turn is answered whole, then replayed.
        outcome = await _tool_answer(request, spec, prepared, upstream_key, call)
        turn = tool_turn.ToolStream(prepared, spec, upstream_key, finished=outcome)
        return ChatStream(_tool_frames(request, prepared, turn, call), DEGRADED_HEADER if turn.degraded else {})
    if spec is not None:
        turn = await _tool_outcome(prepared, spec, upstream_key, call, tool_turn.open_stream)
        return ChatStream(_tool_frames(request, prepared, turn, call), DEGRADED_HEADER if turn.degraded else {})
    upstream = await unified_chat.open_stream(prepared, upstream_key)
    frames = _frames(request, prepared, upstream, call)
    return ChatStream(frames, DEGRADED_HEADER if upstream.degraded else {})


async def _replay(request: ChatRequest, text: str, reason: str, usage: dict[str, Any]) -> AsyncIterator[bytes]:
    """The chunks of an answer already finished: role, its text as one delta, the end."""
    completion_id, created = _ids()
    model, usage_wanted = request.model, request.include_usage
    yield data_frame(tr.chunk(completion_id, created, model, {"role": "assistant", "content": ""}, None, usage_wanted))
    if text:
        yield data_frame(tr.chunk(completion_id, created, model, {"content": text}, None, usage_wanted))
    yield data_frame(tr.chunk(completion_id, created, model, {}, reason, usage_wanted))
    if usage_wanted:
        yield data_frame(tr.usage_chunk(completion_id, created, model, usage))
    yield DONE_FRAME


async def _frames(
    request: ChatRequest, prepared: Prepared, upstream: TextStream, call: CallContext
) -> AsyncIterator[bytes]:
    completion_id, created = _ids()
    model, usage_wanted = request.model, request.include_usage
    limiter = OutputLimiter(request.stop, request.max_tokens, request.upstream_model)

    def content_frame(text: str) -> bytes:
        return data_frame(tr.chunk(completion_id, created, model, {"content": text}, None, usage_wanted))

    deltas = upstream.deltas()
    try:
        yield data_frame(tr.chunk(completion_id, created, model, {"role": "assistant", "content": ""}, None, usage_wanted))
        async for delta in deltas:
            out = await limiter.feed_async(delta)
            if out:
                yield content_frame(out)
            if limiter.done:
                break
        tail = await limiter.flush_async()
        if tail:
            yield content_frame(tail)
        metadata = upstream.metadata
        reason = limiter.finish_reason or tr.finish_reason(metadata.get("finishReason"))
        ending = data_frame(tr.chunk(completion_id, created, model, {}, reason, usage_wanted))
        usage = await _usage(metadata, prepared, limiter.emitted, request.upstream_model, exact=limiter.finish_reason is None)
        call.note_usage(usage["prompt_tokens"], usage["completion_tokens"], unified_chat.credits_of(metadata))
        if usage_wanted:
            ending += data_frame(tr.usage_chunk(completion_id, created, model, usage))
        yield ending + DONE_FRAME  # the last frames in one write
    except RelayError as error:
        call.status = error.status
        yield data_frame(error.body())
    finally:
        if call.completion_tokens == 0 and limiter.emitted:
            # Cut short or failed mid-way: account for what was delivered.
            call.note_usage(await prepared.count_prompt(),
                            await token_counting.count_text_async(limiter.emitted, request.upstream_model))
        await deltas.aclose()
        await upstream.aclose()


async def _tool_frames(
    request: ChatRequest, prepared: Prepared, turn: tool_turn.ToolStream, call: CallContext
) -> AsyncIterator[bytes]:
    """OpenAI's chunk sequence for a turn that may call tools: the role chunk, text as content
    deltas, then per call its opening delta and argument fragments, the finish chunk, usage, [DONE]."""
    completion_id, created = _ids()
    model, usage_wanted, legacy = request.model, request.include_usage, request.legacy_functions
    limiter = OutputLimiter(request.stop, request.max_tokens, request.upstream_model)

    def frame(delta: dict[str, Any], reason: str | None = None) -> bytes:
        return data_frame(tr.chunk(completion_id, created, model, delta, reason, usage_wanted))

    events = turn.events()
    try:
        yield frame({"role": "assistant", "content": ""})
        calls = 0
        async for event in events:
            if isinstance(event, tool_turn.TextDelta):
                out = "" if limiter.done else await limiter.feed_async(event.text)
                if out:
                    yield frame({"content": out})
                continue
            if calls == 0:
                tail = await limiter.flush_async()
                if tail:
                    yield frame({"content": tail})
            calls += 1
            for delta in chat_tools.call_deltas(event.index, event.call, legacy):
                yield frame(delta)
        outcome = turn.outcome
        if calls:
            reason, output = chat_tools.finish_reason(legacy), outcome.output_tokens
        else:
            tail = await limiter.flush_async()
            if tail:
                yield frame({"content": tail})
            reason = limiter.finish_reason or tr.finish_reason(outcome.finish_reason)
            output = outcome.output_tokens if limiter.finish_reason is None else await _cut_output(
                outcome, limiter.emitted, request.upstream_model)
        yield frame({}, reason)
        usage = tr.usage_object(outcome.input_tokens, output)
        call.note_usage(usage["prompt_tokens"], usage["completion_tokens"], outcome.credits)
        if usage_wanted:
            yield data_frame(tr.usage_chunk(completion_id, created, model, usage))
        yield DONE_FRAME
    except RelayError as error:
        call.status = error.status
        yield data_frame(error.body())
    finally:
        if call.completion_tokens == 0 and turn.emitted:
            call.note_usage(await prepared.count_prompt(),
                            await token_counting.count_text_async(turn.emitted, request.upstream_model))
        await events.aclose()
        await turn.aclose()
