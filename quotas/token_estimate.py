"""What a request may cost in tokens, read from its body before it runs (for reservations)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api import token_counting
from api.structured_output import requested_instructions
from api.tool_emulation import prompt as tool_prompt
from api.tool_emulation.spec import Tool, ToolSpec

ONLINE_SUFFIX = ":online"
# Endpoints whose answer is generated text, so its tokens count beyond the prompt's.
TEXT_GENERATION_PATHS = frozenset({"/v1/chat/completions", "/v1/responses", "/v1/completions", "/v1/messages"})
# Fields OpenAI endpoints use to cap the answer, newest name first.
OUTPUT_CAPS = ("max_completion_tokens", "max_output_tokens", "max_tokens")


@dataclass(frozen=True)
class Estimate:
    model: str | None = None  # as the upstream knows it (no `:online`)
    prompt_tokens: int = 0
    max_output_tokens: int | None = None  # what the client asked for, if it did
    generates_text: bool = False  # a chat/response/completion: its answer costs tokens too


def _model(body: dict[str, Any]) -> str | None:
    value = body.get("model")
    if not isinstance(value, str) or not value.strip():
        return None
    model = value.strip()
    if model.lower().endswith(ONLINE_SUFFIX):
        model = model[: -len(ONLINE_SUFFIX)].strip()
    return model or None


def _texts(value: Any, model: str) -> int:
    if isinstance(value, str):
        return token_counting.count_text(value, model)
    if isinstance(value, list):
        if all(isinstance(item, dict) for item in value):
            return token_counting.count_messages(value, model)
        return sum(token_counting.count_text(item, model) for item in value if isinstance(item, str))
    return 0


def _cap(body: dict[str, Any]) -> int | None:
    for name in OUTPUT_CAPS:
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _declared_tools(body: dict[str, Any]) -> tuple[Tool, ...]:
    """Function tools in any endpoint's shape (chat `{"function": {...}}`, Responses' flat one,
    legacy `functions`), read leniently: validation comes later."""
    items = [item for key in ("tools", "functions") if isinstance(body.get(key), list) for item in body[key]]
    declared = []
    for item in items:
        if not isinstance(item, dict) or item.get("type", "function") != "function":
            continue
        function = item["function"] if isinstance(item.get("function"), dict) else item
        name, about, parameters = function.get("name"), function.get("description"), function.get("parameters")
        if isinstance(name, str):
            declared.append(Tool(name, about if isinstance(about, str) else "",
                                 parameters if isinstance(parameters, dict) else {}))
    return tuple(declared)


def _added_by_relay(body: dict[str, Any], model: str) -> int:
    """Tokens of what the relay itself writes into the prompt: tool instructions, the JSON format."""
    added = 0
    tools = _declared_tools(body)
    if tools and body.get("tool_choice") != "none":
        added += token_counting.count_text(tool_prompt.instructions(ToolSpec(tools)), model)
    instructions = requested_instructions(body)
    if instructions:
        added += token_counting.count_text(instructions, model)
    return added


def from_body(body: Any, generates_text: bool = False) -> Estimate:
    """Prompt tokens counted as the services count them; the output cap if the client set one."""
    if not isinstance(body, dict):
        return Estimate(generates_text=generates_text)
    model = _model(body)
    counting_model = model or ""
    prompt = 0
    messages = body.get("messages")
    if isinstance(messages, list):
        prompt += token_counting.count_messages([m for m in messages if isinstance(m, dict)], counting_model)
    if "input" in body:
        prompt += _texts(body.get("input"), counting_model)
    for name in ("instructions", "prompt", "system"):
        if isinstance(body.get(name), str):
            prompt += token_counting.count_text(body[name], counting_model)
    if generates_text:
        prompt += _added_by_relay(body, counting_model)
    return Estimate(model, prompt, _cap(body), generates_text)
