"""One Responses API call: history, prompt, upstream answer, tool calls, structured output, limits, storage."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from api import structured_output as so
from core import token_counting
from core.call_context import CallContext
from core.identity import fingerprint
from core.errors import RelayError, ToolCallFailed
from core.upstream_key import UpstreamKey
from api.output_limits import OutputLimiter, limit_text_async
from api.request_schemas.text import ItemListParams, ResponsesRequest
from api.services import response_store, structured_turn, tool_turn, unified_chat
from api.services.structured_turn import Outcome
from api.services.unified_chat import Prepared, TextStream
from api.streaming import event_frame
from api.translators import response_objects as ro
from api.translators import responses as tr

DEGRADED_HEADER = {"X-WebSearch-Degraded": "true"}


@dataclass
class ResponsesResult:
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ResponsesStream:
    frames: AsyncIterator[bytes]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Turn:
    """A request made ready: its conversation as chat messages, the upstream call, its ids."""

    request: ResponsesRequest
    key_fingerprint: str
    messages: list[dict[str, Any]]
    prepared: Prepared
    root_id: str | None
    response_id: str = field(default_factory=lambda: tr.new_id("resp"))
    search_id: str = field(default_factory=lambda: tr.new_id("ws"))
    created_at: int = field(default_factory=lambda: int(time.time()))

    def body(self, status: str, output: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        return ro.response(self.request, self.response_id, self.created_at, status, output,
                           completed_at=int(time.time()), **kwargs)

    async def keep(self, body: dict[str, Any]) -> None:
        if self.request.store:
            await response_store.save(body, self.request.items, self.key_fingerprint, self.root_id)


async def _turn(request: ResponsesRequest, upstream_key: UpstreamKey, call: CallContext) -> _Turn:
    request = await unified_chat.resolve_request(request, call)
    # Stored responses belong to the caller (its relay key in managed mode), not to the pool
    # key that happens to serve it; RelayView.key_of has set this. Driven without a view, the
    # caller's own secret names the owner, as a passthrough caller's fingerprint does.
    key_fingerprint = call.key_fingerprint or fingerprint(upstream_key.secret)
    history = response_store.History([])
    if request.previous_response_id:
        history = await response_store.history_once(call.previous_history, request.previous_response_id, key_fingerprint)
    fmt = request.text_format
    guidance = tr.guidance(request.reasoning["effort"], request.verbosity, so.prompt_instructions(fmt))
    messages = tr.conversation(request.instructions, guidance, tr.items_to_messages(history.items), request.messages)
    # Earlier calls and results are written in the calling convention even when no tool is offered now.
    prepared = await tool_turn.prepare(request.upstream_model, messages, request.tools.spec, request.web_search,
                                       upstream_key, param="input")
    return _Turn(request, key_fingerprint, prepared.messages, prepared, history.root_id)


async def _answer(turn: _Turn, upstream_key: UpstreamKey) -> Outcome:
    """Function calls, or a text answer held to the text format (both repaired at most once each)."""
    spec, fmt = turn.request.tools.spec, turn.request.text_format
    if not spec.active:
        return await structured_turn.answer(turn.prepared, fmt, upstream_key)
    try:
        turned = await tool_turn.answer(turn.prepared, spec, upstream_key)
    except ToolCallFailed as error:  # `required` or a named function, and no valid call came
        used_in, used_out, credits = error.usage
        return Outcome(None, used_in, used_out, credits, False, error=error.message, repaired=True)
    outcome = Outcome(turned.text, turned.input_tokens, turned.output_tokens, turned.credits, turned.degraded,
                      repaired=turned.repaired, calls=turned.calls)
    if turned.calls:
        return outcome
    return await structured_turn.settle(turn.prepared, fmt, outcome, upstream_key)


def _lead(turn: _Turn, degraded: bool) -> list[dict[str, Any]]:
    """The `web_search_call` item that opens the output when web search was asked for as a tool."""
    if not turn.request.web_search_call:
        return []
    return [ro.web_search_item(turn.search_id, ro.FAILED if degraded else ro.COMPLETED, _search_query(turn.request))]


def _search_query(request: ResponsesRequest) -> str:
    # 1min.ai searches with the prompt itself; the latest user text is the closest to its query.
    for message in reversed(request.messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return " ".join(p.get("text", "") for p in content or [] if isinstance(p, dict) and p.get("type") == "text")
    return ""


async def _finished(turn: _Turn, outcome: Outcome, message_id: str) -> tuple[dict[str, Any], str | None]:
    """The final Response for an outcome, and the limited text of its message (None if it has none)."""
    token_usage = ro.usage(outcome.input_tokens, outcome.output_tokens)
    if outcome.text is None and not outcome.calls:
        return turn.body(ro.FAILED, [], token_usage=token_usage, error=ro.failure(outcome.error or "")), None
    output = _lead(turn, outcome.degraded)
    calls = [ro.function_call_item(tr.new_id("fc"), call.id, call.name, call.arguments_json, ro.COMPLETED)
             for call in outcome.calls]
    text = outcome.text or ""
    if calls and not text.strip():
        return turn.body(ro.COMPLETED, [*output, *calls], token_usage=token_usage), None
    text, cut = await limit_text_async(text, [], turn.request.max_output_tokens, turn.request.upstream_model)
    if cut:
        output_tokens = await token_counting.count_text_async(text, turn.request.upstream_model)
        token_usage = ro.usage(outcome.input_tokens, output_tokens)
        output.append(ro.message_item(message_id, text, ro.INCOMPLETE))
        # A call cut loose from its reason is dropped with the rest of the cut answer.
        return turn.body(ro.INCOMPLETE, output, token_usage=token_usage, incomplete_reason="max_output_tokens"), text
    output += [ro.message_item(message_id, text, ro.COMPLETED), *calls]
    return turn.body(ro.COMPLETED, output, token_usage=token_usage), text


async def create(request: ResponsesRequest, upstream_key: UpstreamKey, call: CallContext) -> ResponsesResult:
    turn = await _turn(request, upstream_key, call)
    outcome = await _answer(turn, upstream_key)
    body, _text = await _finished(turn, outcome, tr.new_id("msg"))
    call.note_usage(body["usage"]["input_tokens"], body["usage"]["output_tokens"], outcome.credits)
    await turn.keep(body)
    return ResponsesResult(body, DEGRADED_HEADER if outcome.degraded else {})


# ---- streaming -------------------------------------------------------------------------------

def _frame(event: dict[str, Any]) -> bytes:
    return event_frame(event["type"], event)


def _opening(turn: _Turn, seq: ro.EventSequence) -> list[bytes]:
    started = turn.body(ro.IN_PROGRESS, [])
    return [_frame(seq("response.created", response=started)), _frame(seq("response.in_progress", response=started))]


async def stream(request: ResponsesRequest, upstream_key: UpstreamKey, call: CallContext) -> ResponsesStream:
    """Stream a response. Any failure before the first token is raised here, as an HTTP error.

    JSON formats, and tools the model must call (`required` or named), are answered whole first
    (a reply must be checked, maybe repaired, before any of it is sent) and then streamed as the
    same events. With `auto` tools the text streams live; only a possible call is held back.
    """
    turn = await _turn(request, upstream_key, call)
    spec = request.tools.spec
    if spec.active and spec.choice.mode == "auto" and not request.text_format.is_json:
        turned = await tool_turn.open_stream(turn.prepared, spec, upstream_key)
        return ResponsesStream(_live_tools(turn, turned, call), DEGRADED_HEADER if turned.degraded else {})
    if request.text_format.is_json or spec.active:
        outcome = await _answer(turn, upstream_key)
        message_id = tr.new_id("msg")
        body, text = await _finished(turn, outcome, message_id)
        call.note_usage(body["usage"]["input_tokens"], body["usage"]["output_tokens"], outcome.credits)
        return ResponsesStream(_replay(turn, body, text, message_id), DEGRADED_HEADER if outcome.degraded else {})
    upstream = await unified_chat.open_stream(turn.prepared, upstream_key)
    return ResponsesStream(_live(turn, upstream, call), DEGRADED_HEADER if upstream.degraded else {})


async def _replay(turn: _Turn, body: dict[str, Any], text: str | None, message_id: str) -> AsyncIterator[bytes]:
    """The events of a response already finished, item by item (a message's text as one delta), then its end."""
    seq = ro.EventSequence()
    for frame in _opening(turn, seq):
        yield frame
    for index, item in enumerate(body["output"]):
        if item["type"] == "web_search_call":
            events = ro.web_search_events(seq, item, index)
        elif item["type"] == "function_call":
            events = ro.function_call_events(seq, item, index)
        else:
            message = ro.MessageEvents(seq, message_id, index)
            events = [*message.opened(), message.delta(text or ""), *message.closed(text or "", item["status"])]
        for event in events:
            yield _frame(event)
    await turn.keep(body)
    yield _frame(seq(ro.TERMINAL_EVENTS[body["status"]], response=body))


async def _failed_mid_stream(turn: _Turn, lead: list[dict[str, Any]], item_id: str, sent: str, error: RelayError,
                             call: CallContext) -> dict[str, Any]:
    """The Response of a stream the upstream broke: failed, holding what was already sent."""
    output_tokens = await token_counting.count_text_async(sent, turn.request.upstream_model)
    prompt_tokens = await turn.prepared.count_prompt()
    call.note_usage(prompt_tokens, output_tokens)
    partial = [*lead, ro.message_item(item_id, sent, ro.INCOMPLETE)] if sent else lead
    return turn.body(ro.FAILED, partial, token_usage=ro.usage(prompt_tokens, output_tokens),
                     error=ro.failure(error.message))


async def _live(turn: _Turn, upstream: TextStream, call: CallContext) -> AsyncIterator[bytes]:
    request, model = turn.request, turn.request.upstream_model
    seq = ro.EventSequence()
    lead = _lead(turn, upstream.degraded)
    message = ro.MessageEvents(seq, tr.new_id("msg"), len(lead))
    limiter = OutputLimiter([], request.max_output_tokens, model)
    deltas = upstream.deltas()
    try:
        for frame in _opening(turn, seq):
            yield frame
        for index, item in enumerate(lead):
            for event in ro.web_search_events(seq, item, index):
                yield _frame(event)
        for event in message.opened():
            yield _frame(event)
        try:
            async for delta in deltas:
                out = await limiter.feed_async(delta)
                if out:
                    yield _frame(message.delta(out))
                if limiter.done:
                    break
            tail = await limiter.flush_async()
            if tail:
                yield _frame(message.delta(tail))
        except RelayError as error:
            call.status = error.status
            body = await _failed_mid_stream(turn, lead, message.item_id, limiter.emitted, error, call)
            await turn.keep(body)
            yield _frame(seq("response.failed", response=body))
            return
        text, cut = limiter.emitted, limiter.finish_reason is not None
        status = ro.INCOMPLETE if cut else ro.COMPLETED
        for event in message.closed(text, status):
            yield _frame(event)
        used_in, used_out = await unified_chat.token_usage(upstream.metadata, turn.prepared, text, model, not cut)
        call.note_usage(used_in, used_out, unified_chat.credits_of(upstream.metadata))
        body = turn.body(status, [*lead, ro.message_item(message.item_id, text, status)], token_usage=ro.usage(used_in, used_out),
                         incomplete_reason="max_output_tokens" if cut else None)
        await turn.keep(body)  # before the terminal event: a client may continue from it at once
        yield _frame(seq(ro.TERMINAL_EVENTS[status], response=body))
    finally:
        if call.completion_tokens == 0 and limiter.emitted:
            call.note_usage(await turn.prepared.count_prompt(), await token_counting.count_text_async(limiter.emitted, model))
        await deltas.aclose()
        await upstream.aclose()


async def _live_tools(turn: _Turn, turned: tool_turn.ToolStream, call: CallContext) -> AsyncIterator[bytes]:
    """A turn that may call tools, live: text as a message's deltas, then each call's events."""
    request, model = turn.request, turn.request.upstream_model
    seq = ro.EventSequence()
    output = _lead(turn, turned.degraded)
    message: ro.MessageEvents | None = None
    limiter = OutputLimiter([], request.max_output_tokens, model)
    events = turned.events()

    async def close_message() -> list[dict[str, Any]]:
        nonlocal message
        if message is None:
            return []
        tail = await limiter.flush_async()
        text, status = limiter.emitted, ro.INCOMPLETE if limiter.finish_reason else ro.COMPLETED
        closing = ([message.delta(tail)] if tail else []) + message.closed(text, status)
        output.append(ro.message_item(message.item_id, text, status))
        message = None
        return closing

    try:
        for frame in _opening(turn, seq):
            yield frame
        for index, item in enumerate(output):
            for event in ro.web_search_events(seq, item, index):
                yield _frame(event)
        try:
            async for event in events:
                if isinstance(event, tool_turn.TextDelta):
                    if message is None and not limiter.emitted:
                        message = ro.MessageEvents(seq, tr.new_id("msg"), len(output))
                        for opened in message.opened():
                            yield _frame(opened)
                    out = await limiter.feed_async(event.text) if message is not None and not limiter.done else ""
                    if out:
                        yield _frame(message.delta(out))
                    continue
                for closing in await close_message():
                    yield _frame(closing)
                item = ro.function_call_item(tr.new_id("fc"), event.call.id, event.call.name, event.call.arguments_json,
                                             ro.COMPLETED)
                for call_event in ro.function_call_events(seq, item, len(output)):
                    yield _frame(call_event)
                output.append(item)
        except RelayError as error:
            call.status = error.status
            sent = limiter.emitted if message is not None else ""  # a message already closed is in `output`
            body = await _failed_mid_stream(turn, output, message.item_id if message else "", sent, error, call)
            await turn.keep(body)
            yield _frame(seq("response.failed", response=body))
            return
        for closing in await close_message():
            yield _frame(closing)
        outcome = turned.outcome
        cut = limiter.finish_reason is not None and not outcome.calls
        used_out = await token_counting.count_text_async(limiter.emitted, model) if cut else outcome.output_tokens
        call.note_usage(outcome.input_tokens, used_out, outcome.credits)
        status = ro.INCOMPLETE if cut else ro.COMPLETED
        body = turn.body(status, output, token_usage=ro.usage(outcome.input_tokens, used_out),
                         incomplete_reason="max_output_tokens" if cut else None)
        await turn.keep(body)
        yield _frame(seq(ro.TERMINAL_EVENTS[status], response=body))
    finally:
        if call.completion_tokens == 0 and turned.emitted:
            call.note_usage(await turn.prepared.count_prompt(), await token_counting.count_text_async(turned.emitted, model))
        await events.aclose()
        await turned.aclose()


# ---- stored responses ------------------------------------------------------------------------

# `owner` is the caller's fingerprint (CallContext.key_fingerprint), whose responses these are.

async def retrieve(response_id: str, owner: str) -> dict[str, Any]:
    return (await response_store.get(response_id, owner)).response


async def delete(response_id: str, owner: str) -> dict[str, Any]:
    await response_store.delete(response_id, owner)
    return {"id": response_id, "object": "response", "deleted": True}


async def input_items(response_id: str, owner: str, params: ItemListParams) -> dict[str, Any]:
    stored = await response_store.get(response_id, owner)
    return ro.item_list(stored.input_items, params.limit, params.order, params.after)
