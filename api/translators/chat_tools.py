"""Tool calls in chat completion shapes: `message.tool_calls` (or legacy `function_call`) and their stream deltas."""
from __future__ import annotations

from typing import Any

from api.tool_emulation.spec import ToolCall

ARGUMENT_FRAGMENT = 24  # characters of `arguments` per streamed delta, as OpenAI sends them in pieces


def tool_call_item(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments_json}}


def calls_message(calls: list[ToolCall], text: str, legacy: bool) -> dict[str, Any]:
    """The assistant message of a reply that calls tools; `content` is null unless prose came with them."""
    message: dict[str, Any] = {"role": "assistant", "content": text or None, "refusal": None, "annotations": []}
    if legacy:
        message["function_call"] = {"name": calls[0].name, "arguments": calls[0].arguments_json}
    else:
        message["tool_calls"] = [tool_call_item(c) for c in calls]
    return message


def finish_reason(legacy: bool) -> str:
    return "function_call" if legacy else "tool_calls"


def _fragments(text: str, size: int = ARGUMENT_FRAGMENT) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def call_deltas(index: int, call: ToolCall, legacy: bool) -> list[dict[str, Any]]:
    """The deltas of one call: its id, type and name with empty arguments, then argument fragments."""
    if legacy:
        return [{"function_call": {"name": call.name, "arguments": ""}}] + [
            {"function_call": {"arguments": piece}} for piece in _fragments(call.arguments_json)
        ]
    opening = {"index": index, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
    return [{"tool_calls": [opening]}] + [
        {"tool_calls": [{"index": index, "function": {"arguments": piece}}]} for piece in _fragments(call.arguments_json)
    ]
