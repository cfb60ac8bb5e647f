"""Responses API input (items, chat-style messages, instructions, guidance) to chat messages for the prompt."""
from __future__ import annotations

import json
import secrets
from typing import Any

from core.errors import InvalidRequest

INPUT_ROLES = ("user", "system", "developer", "assistant")
IMAGE_DETAILS = ("low", "high", "auto", "original")
TEXT_PARTS = ("input_text", "output_text", "text")

# What each reasoning effort asks of the model; 1min.ai has no reasoning setting of its own.
EFFORT_GUIDANCE = {
    "none": None,
    "minimal": "Answer directly with the result, without explaining your reasoning.",
    "low": "Provide a direct and concise response.",
    "medium": "Think through the problem step by step and provide a well-reasoned response.",
    "high": (
        "Carefully analyze all aspects of the problem, consider multiple perspectives, and provide "
        "a thoroughly reasoned response with detailed explanations."
    ),
    "xhigh": (
        "Reason exhaustively: analyze every aspect of the problem, check each step of your reasoning, "
        "consider alternatives and edge cases, and provide a thoroughly reasoned response."
    ),
}
VERBOSITY_GUIDANCE = {
    "low": "Keep the answer as short as possible.",
    "medium": None,
    "high": "Give a detailed, thorough answer.",
}


def new_id(prefix: str) -> str:
    """An OpenAI-style id: `resp_…`, `msg_…`, `fc_…`, 48 hex digits after the prefix."""
    return f"{prefix}_{secrets.token_hex(24)}"


# ---- validating and normalising `input` into stored items --------------------------------------

def _text_part(role: str, text: str) -> dict[str, Any]:
    if role == "assistant":
        return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {"type": "input_text", "text": text}


def _part(part: Any, role: str, param: str) -> dict[str, Any]:
    if not isinstance(part, dict):
        raise InvalidRequest(f"`{param}` must be an object.", param=param)
    kind = part.get("type")
    if kind in TEXT_PARTS:
        if not isinstance(part.get("text"), str):
            raise InvalidRequest(f"`{param}.text` must be a string.", param=f"{param}.text")
        return _text_part(role, part["text"])
    if kind == "refusal":
        if not isinstance(part.get("refusal"), str):
            raise InvalidRequest(f"`{param}.refusal` must be a string.", param=f"{param}.refusal")
        if role == "assistant":
            return {"type": "refusal", "refusal": part["refusal"]}
        return _text_part(role, part["refusal"])
    if kind == "input_image" and role != "assistant":
        return _image_part(part, param)
    raise InvalidRequest(
        f"Content parts of type `{kind}` are not supported here by this relay; use `input_text`, "
        "`output_text` or (in user, system and developer messages) `input_image` with an `image_url`.",
        param=f"{param}.type",
        code="unsupported_content_type",
    )


def _image_part(part: dict[str, Any], param: str) -> dict[str, Any]:
    url = part.get("image_url")
    if isinstance(url, dict):  # chat style {"url": ...}, sent by some clients
        url = url.get("url")
    if part.get("file_id") and not url:
        raise InvalidRequest(
            "File ids are not supported (this relay has no Files API); send the image as `image_url` "
            "(a data: URI or an http(s) URL).",
            param=f"{param}.file_id", code="unsupported_value",
        )
    if not isinstance(url, str) or not url:
        raise InvalidRequest(f"`{param}.image_url` must be a URL or a data: URI.", param=f"{param}.image_url")
    detail = part.get("detail") or "auto"
    if detail not in IMAGE_DETAILS:
        raise InvalidRequest(f"`{param}.detail` must be one of {', '.join(IMAGE_DETAILS)}.", param=f"{param}.detail")
    return {"type": "input_image", "image_url": url, "detail": detail}


def _message_item(item: dict[str, Any], param: str) -> dict[str, Any]:
    role = item.get("role")
    if role not in INPUT_ROLES:
        raise InvalidRequest(f"`{param}.role` must be one of {', '.join(INPUT_ROLES)}.", param=f"{param}.role")
    content = item.get("content")
    if isinstance(content, str):
        parts = [_text_part(role, content)]
    elif isinstance(content, list):
        parts = [_part(p, role, f"{param}.content[{j}]") for j, p in enumerate(content)]
    else:
        raise InvalidRequest(f"`{param}.content` must be a string or a list of content parts.", param=f"{param}.content")
    return {"id": _given_id(item) or new_id("msg"), "type": "message", "role": role, "status": "completed", "content": parts}


def _given_id(item: dict[str, Any]) -> str | None:
    value = item.get("id")
    return value if isinstance(value, str) and value else None


def _require_str(item: dict[str, Any], name: str, param: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"`{param}.{name}` must be a non-empty string.", param=f"{param}.{name}")
    return value


def _function_call_item(item: dict[str, Any], param: str) -> dict[str, Any]:
    arguments = item.get("arguments", "")
    if isinstance(arguments, (dict, list)):
        arguments = json.dumps(arguments, ensure_ascii=False)
    if not isinstance(arguments, str):
        raise InvalidRequest(f"`{param}.arguments` must be a string of JSON.", param=f"{param}.arguments")
    return {
        "id": _given_id(item) or new_id("fc"), "type": "function_call", "status": "completed",
        "call_id": _require_str(item, "call_id", param), "name": _require_str(item, "name", param),
        "arguments": arguments,
    }


def _function_output_item(item: dict[str, Any], param: str) -> dict[str, Any]:
    output = item.get("output")
    if isinstance(output, list):
        output = [_part(p, "user", f"{param}.output[{j}]") for j, p in enumerate(output)]
    elif not isinstance(output, str):
        raise InvalidRequest(f"`{param}.output` must be a string or a list of content parts.", param=f"{param}.output")
    return {
        "id": _given_id(item) or new_id("fco"), "type": "function_call_output", "status": "completed",
        "call_id": _require_str(item, "call_id", param), "output": output,
    }


def normalize_input(value: Any, param: str = "input") -> list[dict[str, Any]]:
    """`input` (a string or a list of items) as stored items with ids, checked part by part."""
    if isinstance(value, str):
        if not value:
            raise InvalidRequest("`input` must not be empty.", param=param)
        return [_message_item({"role": "user", "content": value}, param)]
    if not isinstance(value, list) or not value:
        raise InvalidRequest("`input` must be a string or a non-empty list of input items.", param=param)
    items = []
    for i, item in enumerate(value):
        item_param = f"{param}[{i}]"
        if not isinstance(item, dict):
            raise InvalidRequest(f"`{item_param}` must be an object.", param=item_param)
        kind = item.get("type", "message")
        if kind == "message":
            items.append(_message_item(item, item_param))
        elif kind == "function_call":
            items.append(_function_call_item(item, item_param))
        elif kind == "function_call_output":
            items.append(_function_output_item(item, item_param))
        else:
            raise InvalidRequest(
                f"Input items of type `{kind}` are not supported by this relay; use `message`, "
                "`function_call` or `function_call_output` items (or `previous_response_id` for history).",
                param=f"{item_param}.type", code="unsupported_value",
            )
    return items


def items_from_chat(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chat-style `messages` (already validated) as the items stored and listed for them."""
    items: list[dict[str, Any]] = []
    for message in messages:
        role, content = message["role"], message.get("content")
        if role in ("tool", "function"):
            call_id = message.get("tool_call_id") or message.get("name") or ""
            output = content if isinstance(content, str) else _chat_parts(content, "user")
            items.append({"id": new_id("fco"), "type": "function_call_output", "status": "completed",
                          "call_id": call_id, "output": output if output is not None else ""})
            continue
        parts = [_text_part(role, content)] if isinstance(content, str) else _chat_parts(content, role)
        if parts or not message.get("tool_calls"):
            items.append({"id": new_id("msg"), "type": "message", "role": role, "status": "completed", "content": parts})
        for call in message.get("tool_calls") or []:
            function = (call or {}).get("function") or {}
            items.append({"id": new_id("fc"), "type": "function_call", "status": "completed",
                          "call_id": call.get("id", ""), "name": function.get("name", ""),
                          "arguments": function.get("arguments", "")})
    return items


def _chat_parts(content: Any, role: str) -> list[dict[str, Any]]:
    parts = []
    for part in content or []:
        if part.get("type") == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            detail = image.get("detail") if isinstance(image, dict) else None
            parts.append({"type": "input_image", "image_url": url, "detail": detail or "auto"})
        elif part.get("type") == "refusal":
            parts.append({"type": "refusal", "refusal": part["refusal"]} if role == "assistant" else _text_part(role, part["refusal"]))
        else:
            parts.append(_text_part(role, part.get("text", "")))
    return parts


# ---- stored items to chat messages, and the whole conversation ---------------------------------

def _chat_content(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for part in parts:
        if part["type"] == "input_image":
            out.append({"type": "image_url", "image_url": {"url": part["image_url"]}})
        elif part["type"] == "refusal":
            out.append({"type": "refusal", "refusal": part["refusal"]})
        else:
            out.append({"type": "text", "text": part.get("text", "")})
    return out


def items_to_messages(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored items (input and output) as chat messages, for api.translators.chat.build_prompt."""
    messages: list[dict[str, Any]] = []
    for item in items:
        kind = item.get("type")
        if kind == "message":
            messages.append({"role": item["role"], "content": _chat_content(item["content"])})
        elif kind == "function_call":
            messages.append({"role": "assistant", "content": None, "tool_calls": [{
                "id": item["call_id"], "type": "function",
                "function": {"name": item["name"], "arguments": item["arguments"]},
            }]})
        elif kind == "function_call_output":
            output = item["output"]
            content = output if isinstance(output, str) else _chat_content(output)
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": content})
    return messages


def guidance(effort: str | None, verbosity: str | None, format_instructions: str | None) -> list[str]:
    """The sentences that stand in for settings 1min.ai does not have."""
    lines = [EFFORT_GUIDANCE.get(effort or "none"), VERBOSITY_GUIDANCE.get(verbosity or "medium"), format_instructions]
    return [line for line in lines if line]


def conversation(
    instructions: str | None, guidance_lines: list[str], history: list[dict[str, Any]], current: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Instructions and guidance as one leading system message, then the history, then this turn."""
    system = "\n\n".join(text for text in [instructions, *guidance_lines] if text)
    lead = [{"role": "system", "content": system}] if system else []
    return [*lead, *history, *current]
