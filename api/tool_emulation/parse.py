"""Recognising tool calls in a model's reply, in the shapes models really write them.

Recognised: `<tool_call>{…}</tool_call>` tags (one or several, the last may be unclosed) anywhere;
otherwise JSON that opens a line or fills a ``` fence opening a line: `{"tool_calls": [...]}`, a
single `{"name", "arguments"}`, OpenAI's `{"type": "function", "function": {...}}` items, or a list
of these, with `arguments` as an object or a JSON string. Untagged JSON that names no declared tool
is not a call (it stays text); a tag naming an unknown tool is a problem for the repair.
The starts recognised here are the ones `sniff.py` holds back in a stream.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from api.tool_emulation.spec import ToolSpec

_TAG = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.S)
# A fence opening a line; an unterminated one runs to the end of the reply.
_FENCE = re.compile(r"(?m)^[ \t]*```[ \t]*[A-Za-z0-9_+-]*[ \t]*\r?\n(.*?)(?:^[ \t]*```[ \t]*$|\Z)", re.S)
_LINE_START_JSON = re.compile(r"(?m)^[ \t]*([\[{])")
_MAX_CANDIDATES = 25  # line starts tried in a long reply


@dataclass
class ParsedReply:
    """`calls`: (name, arguments) of each recognised call, before validation; `text`: the prose
    left around them (the whole reply when nothing was recognised); `problems`: why a call-shaped
    reply was not accepted (unknown tool, arguments not JSON, schema errors), for the repair."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    text: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> bool:
        """Whether the reply tried to call a tool at all (validly or not)."""
        return bool(self.calls or self.problems)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _raw_items(value: Any) -> list[dict[str, Any]] | None:
    """The call items in a JSON value as {"name", "arguments"} dicts, or None when not call-shaped."""
    if isinstance(value, list):
        items: list[dict[str, Any]] = []
        for element in value:
            inner = _raw_items(element)
            if inner is None:
                return None
            items += inner
        return items or None
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("tool_calls"), list):
        return _raw_items(value["tool_calls"])
    function = value.get("function", value.get("function_call"))
    if isinstance(function, dict) and "name" in function:
        return [{"name": function.get("name"), "arguments": function.get("arguments", function.get("parameters"))}]
    if "name" in value and ("arguments" in value or "parameters" in value or set(value) <= {"name", "id", "type"}):
        return [{"name": value.get("name"), "arguments": value.get("arguments", value.get("parameters"))}]
    return None


def _arguments(raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    """(arguments, problem): `arguments` given as an object, a JSON string, or left out."""
    if raw is None:
        return {}, None
    if isinstance(raw, str):
        if not raw.strip():
            return {}, None
        try:
            raw = _DECODER.decode(raw)
        except ValueError as error:
            return None, f"its `arguments` string is not valid JSON ({error})"
    if not isinstance(raw, dict):
        return None, "its `arguments` must be a JSON object"
    return raw, None


def _interpret(items: list[dict[str, Any]], spec: ToolSpec, into: ParsedReply) -> None:
    declared = ", ".join(f"`{t.name}`" for t in spec.tools)
    for item in items:
        name = item.get("name")
        if not isinstance(name, str) or not name:
            into.problems.append("A call has no tool `name`.")
            continue
        if spec.tool(name) is None:
            into.problems.append(f"`{name}` is not a declared tool; the tools are {declared}.")
            continue
        arguments, problem = _arguments(item.get("arguments"))
        if problem:
            into.problems.append(f"The call to `{name}`: {problem}.")
        else:
            into.calls.append((name, arguments))


_TAG_FENCE = re.compile(r"```[ \t]*[A-Za-z0-9_+-]*[ \t]*\r?\n?(.*?)(?:```)?", re.S)


def _strip_fence(body: str) -> str:
    body = body.strip()
    match = _TAG_FENCE.fullmatch(body) if body.startswith("```") else None
    return match.group(1).strip() if match else body


def _tagged(reply: str, spec: ToolSpec) -> ParsedReply | None:
    matches = list(_TAG.finditer(reply))
    if not matches:
        return None
    parsed = ParsedReply(text=_TAG.sub("", reply).strip())
    for match in matches:
        body = _strip_fence(match.group(1))
        try:
            value = _DECODER.decode(body)
        except ValueError:
            parsed.problems.append(f"The <tool_call> tag does not hold valid JSON: {body[:200]!r}.")
            continue
        items = _raw_items(value)
        if items is None:
            parsed.problems.append('A <tool_call> tag must hold {"name": ..., "arguments": {...}}.')
            continue
        _interpret(items, spec, parsed)
    return parsed


def _json_at(text: str, start: int) -> tuple[Any, int] | None:
    try:
        return _DECODER.raw_decode(text, start)
    except ValueError:
        return None


def _candidates(reply: str) -> list[tuple[int, int, Any]]:
    """(start, end, value) of JSON in fences opening a line, then of JSON opening a line (outside
    those fences), in reply order, without overlaps."""
    found: list[tuple[int, int, Any]] = []
    for match in _FENCE.finditer(reply):
        inner = match.group(1).strip()
        decoded = _json_at(inner, 0) if inner[:1] in ("{", "[") else None
        if decoded is not None and not inner[decoded[1]:].strip().strip("`").strip():
            found.append((match.start(), match.end(), decoded[0]))
    for match in list(_LINE_START_JSON.finditer(reply))[:_MAX_CANDIDATES]:
        start = match.start(1)
        if any(s <= start < e for s, e, _ in found):
            continue
        decoded = _json_at(reply, start)
        if decoded is not None:
            found.append((start, decoded[1], decoded[0]))
    return sorted(found, key=lambda c: c[0])


def parse_reply(reply: str, spec: ToolSpec) -> ParsedReply:
    tagged = _tagged(reply, spec)
    if tagged is not None:
        return tagged
    parsed = ParsedReply()
    kept, cursor = [], 0
    for start, end, value in _candidates(reply):
        items = _raw_items(value)
        # JSON naming no declared tool is an answer, not a call.
        if items is None or not any(spec.tool(i.get("name")) for i in items if isinstance(i.get("name"), str)):
            continue
        _interpret(items, spec, parsed)
        kept.append(reply[cursor:start])
        cursor = end
    if not parsed.attempted:
        return ParsedReply(text=reply)
    kept.append(reply[cursor:])
    parsed.text = "".join(kept).strip()
    return parsed
