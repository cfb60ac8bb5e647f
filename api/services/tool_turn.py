"""One tool-capable turn against 1min.ai: prompt, answer, recognise, validate, one repair, outcome.

The interface every text endpoint (chat, Responses, Anthropic Messages) renders its own shapes from:

- `await prepare(model, messages, spec, web_search, upstream_key, param=...)` → `Prepared`: `messages`
  are OpenAI chat-style (assistant `tool_calls`, `tool` results); they are rewritten in the calling
  convention and the tool instructions added (api.tool_emulation.prompt.conversation).
- `await answer(prepared, spec, upstream_key)` → `Outcome`: `calls` (validated `ToolCall`s, ids
  `call_…`) or, when empty, `text`; `text` may also hold prose written around calls. Usage sums
  every upstream call (the repair included).
- `await open_stream(prepared, spec, upstream_key)` → `ToolStream`: `async for event in
  stream.events()` gives `TextDelta(text)` as text may be shown, and `CallReady(index, call)` per
  call; `stream.outcome` is set once the events end; always `await stream.aclose()`. With `auto`
  the upstream is streamed and only a possible call is held back (api.tool_emulation.sniff); with
  `required` or a named tool the turn is answered whole first, so its failure is still an HTTP error.

A call that is invalid, or a `required`/named turn without one, gets one repair request stating
the problems. If that fails too: `auto` gives the repair reply as text; `required`/named raise
`ToolCallFailed` (502 `tool_call_failed`, its `usage` set).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, AsyncIterator, Union

from core.errors import ToolCallFailed
from core.token_counting import PromptCount
from core.upstream_key import UpstreamKey
from api.output_limits import SentText
from api.services import unified_chat
from api.services.unified_chat import Answer, Prepared, TextStream
from api.tool_emulation import prompt, validate
from api.tool_emulation.parse import parse_reply
from api.tool_emulation.sniff import Sniffer
from api.tool_emulation.spec import ToolCall, ToolSpec


@dataclass
class Outcome:
    calls: list[ToolCall]
    text: str
    input_tokens: int
    output_tokens: int
    credits: int | None
    degraded: bool = False  # web search dropped after 1min.ai refused it
    repaired: bool = False  # a repair request was made
    finish_reason: Any = None  # 1min.ai's finishReason for the reply used (raw)


@dataclass
class TextDelta:
    text: str


@dataclass
class CallReady:
    index: int
    call: ToolCall


Event = Union[TextDelta, CallReady]


@dataclass
class _Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    credits: int | None = None

    async def add(self, prepared: Prepared, metadata: dict[str, Any], text: str) -> None:
        used_in, used_out = await unified_chat.token_usage(metadata, prepared, text, prepared.model, True)
        self.input_tokens += used_in
        self.output_tokens += used_out
        more = unified_chat.credits_of(metadata)
        if more is not None:
            self.credits = (self.credits or 0) + more


async def prepare(model: str, messages: list[dict[str, Any]], spec: ToolSpec, web_search: bool,
                  upstream_key: UpstreamKey, *, param: str = "messages",
                  counted: PromptCount | None = None) -> Prepared:
    return await unified_chat.prepare(model, prompt.conversation(messages, spec), web_search, upstream_key,
                                      param=param, counted=counted)


def judge(reply: str, spec: ToolSpec) -> validate.Verdict:
    """A reply's calls or text under `spec` (plain text when the spec allows no call)."""
    if not spec.active:
        return validate.Verdict([], reply)
    return validate.check(parse_reply(reply, spec), spec)


def _failure(problems: list[str], spec: ToolSpec, usage: _Usage) -> ToolCallFailed:
    wanted = f"the tool `{spec.choice.name}`" if spec.choice.mode == "named" else "a tool"
    error = ToolCallFailed(
        f"The model did not call {wanted} validly, even after one repair request: " + "; ".join(problems[:5])
    )
    error.usage = (usage.input_tokens, usage.output_tokens, usage.credits)
    return error


async def _repair(prepared: Prepared, spec: ToolSpec, upstream_key: UpstreamKey, reply: str, problems: list[str],
                  usage: _Usage, degraded: bool) -> Outcome:
    messages = [*prepared.messages, {"role": "assistant", "content": reply},
                {"role": "user", "content": prompt.repair_instructions(problems, spec)}]
    # The first reply already holds any search results: the repair only fixes its form.
    retry = prepared.with_prompt(messages, web_search=False)
    second = await unified_chat.ask(retry, upstream_key)
    await usage.add(retry, second.metadata, second.text)
    verdict = judge(second.text, spec)
    if verdict.ok:
        return _outcome(verdict, usage, second, degraded, repaired=True)
    if spec.choice.mode in ("required", "named"):
        raise _failure(verdict.problems, spec, usage)
    return Outcome([], second.text, usage.input_tokens, usage.output_tokens, usage.credits, degraded, True,
                   second.metadata.get("finishReason"))


def _outcome(verdict: validate.Verdict, usage: _Usage, answer: Answer, degraded: bool, repaired: bool) -> Outcome:
    text = verdict.text if verdict.calls else answer.text
    return Outcome(verdict.calls, text, usage.input_tokens, usage.output_tokens, usage.credits, degraded, repaired,
                   answer.metadata.get("finishReason"))


async def answer(prepared: Prepared, spec: ToolSpec, upstream_key: UpstreamKey) -> Outcome:
    first = await unified_chat.ask(prepared, upstream_key)
    usage = _Usage()
    await usage.add(prepared, first.metadata, first.text)
    verdict = judge(first.text, spec)
    if verdict.ok:
        return _outcome(verdict, usage, first, first.degraded, repaired=False)
    return await _repair(prepared, spec, upstream_key, first.text, verdict.problems, usage, first.degraded)


# ---- streaming -------------------------------------------------------------------------------

class ToolStream:
    """The events of one turn; `outcome` is set once `events()` has run to its end."""

    def __init__(self, prepared: Prepared, spec: ToolSpec, upstream_key: UpstreamKey,
                 upstream: TextStream | None = None, finished: Outcome | None = None) -> None:
        self._prepared, self._spec, self._upstream_key = prepared, spec, upstream_key
        self._upstream, self.outcome = upstream, finished
        self.degraded = upstream.degraded if upstream is not None else bool(finished and finished.degraded)
        self._emitted = SentText()  # text released so far (for accounting if the stream breaks)

    @property
    def emitted(self) -> str:
        return self._emitted.text

    async def events(self) -> AsyncIterator[Event]:
        if self._upstream is None:
            for event in _replay(self.outcome):
                yield event
            return
        sniffer = Sniffer()
        deltas = self._upstream.deltas()
        try:
            async for delta in deltas:
                out = sniffer.feed(delta)
                if out:
                    self._emitted.add(out)
                    yield TextDelta(out)
        finally:
            await deltas.aclose()
        tail = sniffer.finish()
        if tail:
            self._emitted.add(tail)
            yield TextDelta(tail)
        metadata = self._upstream.metadata
        usage = _Usage()
        await usage.add(self._prepared, metadata, sniffer.text)
        held = sniffer.held
        verdict = judge(held, self._spec) if held else validate.Verdict([], "")
        if verdict.ok:
            text = verdict.text if verdict.calls else sniffer.unreleased
            if text:
                self._emitted.add(text)
                yield TextDelta(text)
            self.outcome = Outcome(verdict.calls, self.emitted, usage.input_tokens, usage.output_tokens,
                                   usage.credits, self.degraded, False, metadata.get("finishReason"))
        else:
            repaired = await _repair(self._prepared, self._spec, self._upstream_key, sniffer.text, verdict.problems,
                                     usage, self.degraded)
            if not repaired.calls and repaired.text:
                self._emitted.add(repaired.text)
                yield TextDelta(repaired.text)
            repaired.text = self.emitted
            self.outcome = repaired
        for index, call in enumerate(self.outcome.calls):
            yield CallReady(index, call)

    async def aclose(self) -> None:
        if self._upstream is not None:
            await self._upstream.aclose()


def _replay(outcome: Outcome | None) -> list[Event]:
    if outcome is None:
        return []
    events: list[Event] = [TextDelta(outcome.text)] if outcome.text else []
    return events + [CallReady(i, call) for i, call in enumerate(outcome.calls)]


async def open_stream(prepared: Prepared, spec: ToolSpec, upstream_key: UpstreamKey) -> ToolStream:
    """Start a turn; a failure before the first event is raised here (an HTTP error, not an event)."""
    if spec.active and spec.choice.mode in ("required", "named"):
        return ToolStream(prepared, spec, upstream_key, finished=await answer(prepared, spec, upstream_key))
    upstream = await unified_chat.open_stream(prepared, upstream_key)
    return ToolStream(prepared, spec, upstream_key, upstream=upstream)
