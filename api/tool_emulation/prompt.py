"""What the model is told: the tools, the calling convention, earlier calls and results, repair requests."""
from __future__ import annotations

import json
from typing import Any

from api.tool_emulation.spec import ToolSpec

OPEN_TAG, CLOSE_TAG = "<tool_call>", "</tool_call>"
_MAX_PROBLEMS = 10


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _call_line(name: str, arguments: Any) -> str:
    return f'{OPEN_TAG}{json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)}{CLOSE_TAG}'


def _choice_rule(spec: ToolSpec) -> str:
    mode = spec.choice.mode
    if mode == "named":
        return (f"In this reply you MUST call the tool `{spec.choice.name}` (a <tool_call> tag naming it); "
                "do not answer in plain text.")
    if mode == "required":
        return "In this reply you MUST call at least one tool; do not answer in plain text."
    return ("Call a tool only when it helps answer; if no tool is needed, answer the user directly in plain "
            "text, without any <tool_call> tag.")


def instructions(spec: ToolSpec) -> str:
    """The system text that declares the tools (with their JSON schemas) and how to call them,
    honouring `spec.choice` (auto / required / named) and `spec.parallel`."""
    lines = ["You can call the following tools (functions). Each is listed with a JSON Schema for its arguments.", ""]
    for tool in spec.tools:
        about = f": {tool.description}" if tool.description else ""
        lines.append(f"- `{tool.name}`{about}")
        lines.append(f"  arguments JSON Schema: {_compact(tool.parameters)}")
    example = _call_line("TOOL_NAME", {"ARGUMENT": "VALUE"})
    lines += [
        "",
        "To call a tool, write the call exactly in this form, with nothing else in your reply:",
        example,
        "`arguments` is a JSON object valid against that tool's schema (every required property, "
        "nothing the schema does not allow).",
        "You may call several tools in one reply: one <tool_call> tag per call, one per line."
        if spec.parallel else "Call at most one tool per reply.",
        "The results come back to you as <tool_result call_id=\"...\" name=\"...\">...</tool_result>; "
        "then use them to continue. Never write <tool_result> tags yourself.",
        _choice_rule(spec),
    ]
    return "\n".join(lines)


def call_text(calls: list[dict[str, Any]]) -> str:
    """An assistant's earlier calls (OpenAI `tool_calls` items) written in the same convention the
    model is asked to use, so multi-turn loops stay coherent."""
    lines = []
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            continue
        arguments: Any = function.get("arguments", {})
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except ValueError:
                pass  # written as the string it was, rather than dropped
        lines.append(_call_line(str(function.get("name", "")), arguments))
    return "\n".join(lines)


def _attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def result_text(call_id: str, name: str | None, content: str) -> str:
    """A tool result written for the transcript (the `tool` message's text)."""
    attributes = f' call_id="{_attribute(call_id)}"' if call_id else ""
    if name:
        attributes += f' name="{_attribute(name)}"'
    return f"<tool_result{attributes}>{content}</tool_result>"


def repair_instructions(problems: list[str], spec: ToolSpec) -> str:
    """The follow-up user turn of the one repair request, stating each problem."""
    listed = "\n".join(f"- {problem}" for problem in problems[:_MAX_PROBLEMS])
    retry = "Reply again with only the corrected call" + ("(s)" if spec.parallel else "") + ", each as "
    retry += _call_line("TOOL_NAME", {"ARGUMENT": "VALUE"}) + " and no other text."
    if spec.choice.mode == "auto":
        retry += " If no tool is needed after all, answer in plain text instead."
    else:
        retry += " " + _choice_rule(spec)
    return f"Your previous reply could not be used as a tool call. Problems found:\n{listed}\n{retry}"


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part.get("text", "") for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return "" if content is None else str(content)


def conversation(messages: list[dict[str, Any]], spec: ToolSpec) -> list[dict[str, Any]]:
    """Chat messages ready for the prompt: the tool instructions as a system message after the
    caller's leading system/developer messages (when the spec is active), assistant `tool_calls` /
    `function_call` written as <tool_call> tags, and `tool` / `function` results as <tool_result>.
    With nothing to add or rewrite, `messages` itself, so a count made of it still applies."""
    names: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    kept = 0  # messages passed on as they are
    for message in messages:
        role = message.get("role")
        if role == "assistant" and (message.get("tool_calls") or isinstance(message.get("function_call"), dict)):
            calls = [c for c in message.get("tool_calls") or [] if isinstance(c, dict)]
            if isinstance(message.get("function_call"), dict):
                calls.append({"id": "", "function": message["function_call"]})
            for call in calls:
                if isinstance(call.get("function"), dict) and call.get("id"):
                    names[str(call["id"])] = str(call["function"].get("name", ""))
            text = _content_text(message.get("content")).strip()
            written = call_text(calls)
            rewritten = {k: v for k, v in message.items() if k not in ("tool_calls", "function_call")}
            rewritten["content"] = f"{text}\n{written}" if text else written
            out.append(rewritten)
        elif role == "tool":
            call_id = str(message.get("tool_call_id") or "")
            content = result_text(call_id, names.get(call_id), _content_text(message.get("content")))
            out.append({"role": "tool", "content": content})
        elif role == "function":
            content = result_text("", message.get("name"), _content_text(message.get("content")))
            out.append({"role": "tool", "content": content})
        else:
            out.append(message)
            kept += 1
    if kept == len(messages) and not spec.active:
        return messages
    if spec.active:
        lead = 0
        while lead < len(out) and out[lead].get("role") in ("system", "developer"):
            lead += 1
        out.insert(lead, {"role": "system", "content": instructions(spec)})
    return out
