"""Validation of OpenAI request bodies into typed requests; errors name the offending param."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.errors import InvalidRequest

ONLINE_SUFFIX = ":online"
CHAT_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
TEXT_PART_TYPES = {"text", "refusal", "input_text", "output_text"}


@dataclass
class ChatRequest:
    model: str  # as the client sent it, `:online` included, echoed back in responses
    upstream_model: str
    web_search: bool
    messages: list[dict[str, Any]]
    stream: bool = False
    include_usage: bool = False
    stop: list[str] = field(default_factory=list)
    max_tokens: int | None = None


def require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.", code="invalid_json")
    return body


def parse_model(value: Any, param: str = "model") -> tuple[str, str, bool]:
    """(as sent, upstream id, web search) from a model name that may end in `:online`."""
    if value is None or value == "":
        raise InvalidRequest("You must provide a model parameter.", param=param, code="missing_required_parameter")
    if not isinstance(value, str):
        raise InvalidRequest("`model` must be a string.", param=param, code="invalid_type")
    model = value.strip()
    if model.lower().endswith(ONLINE_SUFFIX):
        base = model[: -len(ONLINE_SUFFIX)].strip()
        if not base:
            raise InvalidRequest("`model` names no model before `:online`.", param=param)
        return value, base, True
    return value, model, False


def _positive_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequest(f"`{name}` must be a positive integer.", param=name, code="invalid_value")
    return value


def _stop(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list) and len(value) <= 4 and all(isinstance(s, str) for s in value):
        return [s for s in value if s]
    raise InvalidRequest("`stop` must be a string or a list of up to 4 strings.", param="stop")


def _check_content(content: Any, index: int) -> None:
    param = f"messages[{index}].content"
    if content is None or isinstance(content, str):
        return
    if not isinstance(content, list):
        raise InvalidRequest(f"`{param}` must be a string, null or a list of parts.", param=param)
    for j, part in enumerate(content):
        part_param = f"{param}[{j}]"
        if not isinstance(part, dict):
            raise InvalidRequest(f"`{part_param}` must be an object.", param=part_param)
        kind = part.get("type")
        if kind in TEXT_PART_TYPES:
            text = part.get("text") if kind != "refusal" else part.get("refusal")
            if not isinstance(text, str):
                raise InvalidRequest(f"`{part_param}` needs a string `{kind if kind == 'refusal' else 'text'}`.", param=part_param)
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if not isinstance(url, str) or not url:
                raise InvalidRequest(f"`{part_param}.image_url.url` must be a URL or data URI.", param=f"{part_param}.image_url")
        else:
            # 1min.ai chat takes text and images only; refusing beats silently dropping input.
            raise InvalidRequest(
                f"Content parts of type `{kind}` are not supported by this relay; "
                "use `text` or `image_url`.",
                param=f"{part_param}.type",
                code="unsupported_content_type",
            )


def parse_messages(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise InvalidRequest("`messages` must be a non-empty list.", param="messages", code="missing_required_parameter" if value is None else "invalid_value")
    for i, message in enumerate(value):
        if not isinstance(message, dict):
            raise InvalidRequest(f"`messages[{i}]` must be an object.", param=f"messages[{i}]")
        role = message.get("role")
        if role not in CHAT_ROLES:
            raise InvalidRequest(
                f"`messages[{i}].role` must be one of {', '.join(sorted(CHAT_ROLES))}.",
                param=f"messages[{i}].role",
            )
        _check_content(message.get("content"), i)
    return value


def parse_chat(body: Any) -> ChatRequest:
    body = require_object(body)
    model, upstream_model, web_search = parse_model(body.get("model"))
    messages = parse_messages(body.get("messages"))
    n = body.get("n")
    if n is not None and n != 1:
        raise InvalidRequest("1min.ai returns one choice per request; `n` must be 1.", param="n", code="unsupported_value")
    stream = body.get("stream") or False
    if not isinstance(stream, bool):
        raise InvalidRequest("`stream` must be a boolean.", param="stream")
    options = body.get("stream_options") or {}
    if not isinstance(options, dict):
        raise InvalidRequest("`stream_options` must be an object.", param="stream_options")
    max_tokens = _positive_int(body, "max_completion_tokens") or _positive_int(body, "max_tokens")
    return ChatRequest(
        model=model,
        upstream_model=upstream_model,
        web_search=web_search,
        messages=messages,
        stream=stream,
        include_usage=bool(options.get("include_usage")) and stream,
        stop=_stop(body.get("stop")),
        max_tokens=max_tokens,
    )
