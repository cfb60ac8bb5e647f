"""What a request may cost in tokens, read from its body before it runs (for reservations)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from core import token_counting

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
    # The body's `messages` counted alone, part of prompt_tokens: a chat call sending them as they
    # are reuses this count for its usage instead of counting them again.
    counted_messages: token_counting.PromptCount | None = field(default=None, compare=False, repr=False)


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


def from_body(body: Any, generates_text: bool = False) -> Estimate:
    """Prompt tokens counted as the services count them; the output cap if the client set one."""
    if not isinstance(body, dict):
        return Estimate(generates_text=generates_text)
    model = _model(body)
    counting_model = model or ""
    prompt = 0
    counted = None
    messages = body.get("messages")
    if isinstance(messages, list):
        dicts = [m for m in messages if isinstance(m, dict)]
        tokens = token_counting.count_messages(dicts, counting_model)
        if len(dicts) == len(messages):  # else not the count of `messages` itself
            counted = token_counting.PromptCount(messages, counting_model, tokens)
        prompt += tokens + _item_extras(messages, counting_model)
    if "input" in body:
        prompt += _texts(body.get("input"), counting_model)
        if isinstance(body.get("input"), list):
            prompt += _item_extras(body["input"], counting_model)
    for name in ("instructions", "prompt", "system"):
        if isinstance(body.get(name), str):
            prompt += token_counting.count_text(body[name], counting_model)
    prompt += _added_to_prompt(body, counting_model)
    return Estimate(model, prompt, _cap(body), generates_text, counted)


def model_only(body: Any) -> Estimate:
    """A request that sends no prompt to be answered (Anthropic's count_tokens): the model it names,
    for the allowed-models check, and no tokens to reserve, so its body is not tokenized here."""
    return Estimate(_model(body) if isinstance(body, dict) else None)


# --- what reaches the upstream prompt besides the messages' text ------------------------------
# Read by field name for every endpoint's body (chat, responses, Anthropic messages): a reservation
# short of the real prompt lets one call overshoot a token limit or budget.


def _json_tokens(value: Any, model: str) -> int:
    return token_counting.count_text(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str), model)


def _block_texts(blocks: list[Any]) -> list[str]:
    return [b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str)]


def _added_to_prompt(body: dict[str, Any], model: str) -> int:
    """Tool definitions, the JSON schema the relay writes into the prompt, Anthropic's block-list
    `system`: text the services send upstream that is not in the messages."""
    total = 0
    for name in ("tools", "functions"):
        if isinstance(body.get(name), list) and body[name]:
            total += _json_tokens(body[name], model)
    if isinstance(body.get("response_format"), dict):
        total += _json_tokens(body["response_format"], model)
    text = body.get("text")
    if isinstance(text, dict) and isinstance(text.get("format"), dict):
        total += _json_tokens(text["format"], model)
    if isinstance(body.get("system"), list):
        total += sum(token_counting.count_text(t, model) for t in _block_texts(body["system"]))
    return total


def _item_extras(items: list[Any], model: str) -> int:
    """What count_messages skips: tool-call arguments and tool outputs, as Responses items
    (`function_call`, `function_call_output`) and Anthropic blocks (`tool_use`, `tool_result`) carry them."""
    total = 0
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("type") in ("function_call", "function_call_output", "custom_tool_call",
                                "custom_tool_call_output"):
            for name in ("arguments", "output", "input"):
                value = item.get(name)
                if isinstance(value, str):
                    total += token_counting.count_text(value, model)
                elif isinstance(value, list):
                    total += sum(token_counting.count_text(t, model) for t in _block_texts(value))
        content = item.get("content")
        if isinstance(content, list):
            for block in content:
                if not isinstance(block, dict):
                    continue
                if block.get("type") == "tool_use":
                    total += _json_tokens(block.get("input"), model)
                elif block.get("type") == "tool_result":
                    inner = block.get("content")
                    texts = [inner] if isinstance(inner, str) else _block_texts(inner) if isinstance(inner, list) else []
                    total += sum(token_counting.count_text(t, model) for t in texts)
    return total


def with_history(estimate: Estimate, items: list[Any]) -> Estimate:
    """Add the stored conversation that `previous_response_id` puts in front of the prompt
    (read by the caller: the store belongs to the api app)."""
    items = [item for item in items if isinstance(item, dict)]
    if not items:
        return estimate
    model = estimate.model or ""
    tokens = token_counting.count_messages(items, model) + _item_extras(items, model)
    return replace(estimate, prompt_tokens=estimate.prompt_tokens + tokens)
