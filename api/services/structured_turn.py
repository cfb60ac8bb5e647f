"""One upstream answer in a requested text format: asked, cleaned, checked, repaired once (chat and Responses)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api import structured_output as so
from api.services import unified_chat
from api.services.unified_chat import Prepared
from api.tool_emulation.spec import ToolCall
from core.upstream_key import UpstreamKey


@dataclass
class Outcome:
    """A finished answer: the text to return (None when structured output failed) and what it cost,
    the repair request included."""

    text: str | None
    input_tokens: int
    output_tokens: int
    credits: int | None
    degraded: bool
    error: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # of the answer returned (finish reason)
    repaired: bool = False
    calls: list[ToolCall] = field(default_factory=list)  # recognised tool calls (api/tool_emulation)


def add_credits(a: int | None, b: int | None) -> int | None:
    return None if a is None and b is None else (a or 0) + (b or 0)


def failure_message(fmt: so.TextFormat, errors: list[str]) -> str:
    what = f"the JSON Schema `{fmt.name}`" if fmt.type == so.JSON_SCHEMA else "a JSON object"
    return f"The model's reply was not valid JSON for {what}, even after one repair request: " + "; ".join(errors)


async def answer(prepared: Prepared, fmt: so.TextFormat, upstream_key: UpstreamKey) -> Outcome:
    """The upstream answer to `prepared` (whose prompt already carries `so.prompt_instructions`);
    for JSON formats cleaned, checked and, if need be, repaired once."""
    first = await unified_chat.ask(prepared, upstream_key)
    used_in, used_out = await unified_chat.token_usage(first.metadata, prepared, first.text, prepared.model, True)
    outcome = Outcome(first.text, used_in, used_out, unified_chat.credits_of(first.metadata), first.degraded,
                      metadata=first.metadata)
    return await settle(prepared, fmt, outcome, upstream_key)


async def settle(prepared: Prepared, fmt: so.TextFormat, outcome: Outcome, upstream_key: UpstreamKey) -> Outcome:
    """`outcome`'s text (an answer to `prepared`) made checked JSON for `fmt`: cleaned, or repaired
    once, the repair's cost added. Text formats, and outcomes without text, are returned as they are."""
    if not fmt.is_json or outcome.text is None:
        return outcome
    checked = so.check(outcome.text, fmt)
    if checked.ok:
        outcome.text = checked.json_text
        return outcome
    repair = [*prepared.messages, {"role": "assistant", "content": outcome.text},
              {"role": "user", "content": so.repair_instructions(fmt, checked.errors)}]
    # The first reply already holds any search results: the repair only needs to reformat it.
    retry = prepared.with_prompt(repair, web_search=False)
    second = await unified_chat.ask(retry, upstream_key)
    more_in, more_out = await unified_chat.token_usage(second.metadata, retry, second.text, prepared.model, True)
    checked = so.check(second.text, fmt)
    outcome.text = checked.json_text
    outcome.input_tokens += more_in
    outcome.output_tokens += more_out
    outcome.credits = add_credits(outcome.credits, unified_chat.credits_of(second.metadata))
    outcome.metadata, outcome.repaired = second.metadata, True
    if not checked.ok:
        outcome.error = failure_message(fmt, checked.errors)
    return outcome
