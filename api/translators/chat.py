"""OpenAI chat messages to a 1min.ai unified-chat body, and 1min.ai records to chat completions."""
from __future__ import annotations

import json
from typing import Any, TypedDict

UNIFIED_CHAT_TYPE = "UNIFY_CHAT_WITH_AI"

ROLE_LABELS = {
    "system": "System",
    "developer": "Developer",
    "user": "Human",
    "assistant": "Assistant",
    "tool": "Tool",
    "function": "Function",
}

# 1min.ai passes its providers' finish reasons through; OpenAI's set is closed.
_FINISH_REASONS = {
    "stop": "stop",
    "complete": "stop",
    "completed": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "eos": "stop",
    "finish": "stop",
    "length": "length",
    "max_tokens": "length",
    "max_output_tokens": "length",
    "model_length": "length",
    "content_filter": "content_filter",
    "safety": "content_filter",
    "recitation": "content_filter",
    "blocklist": "content_filter",
    "prohibited_content": "content_filter",
}


class PromptObject(TypedDict, total=False):
    prompt: str
    settings: dict[str, Any]
    attachments: dict[str, list[str]]


class UnifiedChatBody(TypedDict):
    type: str
    model: str
    promptObject: PromptObject


def image_urls(messages: list[dict[str, Any]]) -> list[str]:
    """Every image reference in the conversation, in order (all messages, not just the last)."""
    urls = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "image_url":
                    image = part.get("image_url")
                    urls.append(image.get("url") if isinstance(image, dict) else image)
    return urls


def _tool_calls_text(message: dict[str, Any]) -> list[str]:
    lines = []
    for call in message.get("tool_calls") or []:
        if not isinstance(call, dict):
            continue
        function = call.get("function") or {}
        lines.append(
            f"[called tool `{function.get('name', '')}` with arguments "
            f"{function.get('arguments', '')} (call id {call.get('id', '')})]"
        )
    legacy = message.get("function_call")
    if isinstance(legacy, dict):
        lines.append(
            f"[called function `{legacy.get('name', '')}` with arguments {legacy.get('arguments', '')}]"
        )
    return lines


def message_text(message: dict[str, Any], image_counter: list[int]) -> str:
    """The text of one message; images become `[image N]` markers where they stood."""
    content = message.get("content")
    pieces: list[str] = []
    if isinstance(content, str):
        pieces.append(content)
    elif isinstance(content, list):
        for part in content:
            kind = part.get("type")
            if kind == "image_url":
                image_counter[0] += 1
                pieces.append(f"[image {image_counter[0]}]")
            elif kind == "refusal":
                pieces.append(part.get("refusal", ""))
            else:
                pieces.append(part.get("text", ""))
    pieces.extend(_tool_calls_text(message))
    return "\n".join(p for p in pieces if p != "")


def _label(message: dict[str, Any]) -> str:
    role = message.get("role", "user")
    label = ROLE_LABELS.get(role, role.title())
    qualifiers = []
    if isinstance(message.get("name"), str) and message["name"]:
        qualifiers.append(message["name"])
    if role == "tool" and message.get("tool_call_id"):
        qualifiers.append(f"result of call {message['tool_call_id']}")
    return f"{label} ({', '.join(qualifiers)})" if qualifiers else label


def build_prompt(messages: list[dict[str, Any]]) -> str:
    """Flatten the conversation into 1min.ai's single `prompt` string.

    A lone unnamed user message is sent as it is; anything longer becomes a labelled transcript
    ending with an `Assistant:` cue, because the upstream has no messages array or system field.
    """
    counter = [0]
    if len(messages) == 1 and messages[0].get("role") == "user" and not messages[0].get("name"):
        return message_text(messages[0], counter)
    turns = [f"{_label(m)}: {message_text(m, counter)}" for m in messages]
    return "\n\n".join(turns) + "\n\nAssistant:"


def build_body(
    model: str,
    prompt: str,
    *,
    images: list[str] | None = None,
    web_search: dict[str, Any] | None = None,
) -> UnifiedChatBody:
    prompt_object: PromptObject = {"prompt": prompt}
    if web_search is not None:
        prompt_object["settings"] = {"webSearchSettings": web_search}
    if images:
        prompt_object["attachments"] = {"images": list(images)}
    return {"type": UNIFIED_CHAT_TYPE, "model": model, "promptObject": prompt_object}


def web_search_settings(enabled: bool, num_of_site: int, max_word: int) -> dict[str, Any]:
    if enabled:
        return {"webSearch": True, "numOfSite": num_of_site, "maxWord": max_word}
    return {"webSearch": False}


def record_of(payload: Any) -> dict[str, Any]:
    record = payload.get("aiRecord") if isinstance(payload, dict) else None
    return record if isinstance(record, dict) else {}


def text_of(record: dict[str, Any]) -> str | None:
    """The answer in an aiRecord, or None when the record holds none."""
    detail = record.get("aiRecordDetail") if isinstance(record.get("aiRecordDetail"), dict) else {}
    result = detail.get("resultObject", record.get("resultObject"))
    if isinstance(result, list):
        texts = [r for r in result if isinstance(r, str)]
        return "".join(texts) if texts else None
    if isinstance(result, str):
        return result
    if isinstance(result, dict) and isinstance(result.get("message"), str):
        return result["message"]
    return None


def metadata_of(record: dict[str, Any]) -> dict[str, Any]:
    metadata = record.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def upstream_usage(metadata: dict[str, Any]) -> tuple[int, int] | None:
    """(input, output) tokens from aiRecord.metadata; None when absent or all zero."""
    try:
        prompt = int(metadata.get("inputToken") or 0)
        completion = int(metadata.get("outputToken") or 0)
    except (TypeError, ValueError):
        return None
    if prompt <= 0 and completion <= 0:
        return None
    return prompt, completion


def finish_reason(raw: Any) -> str:
    if isinstance(raw, str):
        return _FINISH_REASONS.get(raw.strip().lower(), "stop")
    return "stop"


def usage_object(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def completion(
    completion_id: str, created: int, model: str, text: str, reason: str, usage: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": reason,
            }
        ],
        "usage": usage,
    }


def chunk(
    completion_id: str,
    created: int,
    model: str,
    delta: dict[str, Any],
    reason: str | None = None,
    include_usage: bool = False,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}],
    }
    if include_usage:
        body["usage"] = None  # OpenAI sends null on every chunk but the last when usage is asked
    return body


def usage_chunk(
    completion_id: str, created: int, model: str, usage: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [],
        "usage": usage,
    }


def stream_error_message(payload: Any) -> str:
    """The message of an upstream `event: error` in any of the payload shapes seen."""
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, str):
            return error
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
        if isinstance(payload.get("message"), str):
            return payload["message"]
    if isinstance(payload, str) and payload:
        return payload
    return json.dumps(payload) if payload is not None else "unknown error"
