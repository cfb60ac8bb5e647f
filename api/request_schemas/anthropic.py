"""Validation of Anthropic Messages request bodies (POST /v1/messages and its count_tokens)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.errors import InvalidRequest
from api.request_schemas.text import MAX_INTEGER, parse_model, require_object, whole_number
from api.tool_emulation.spec import Tool, ToolChoice, ToolSpec

ROLES = ("user", "assistant", "system")  # `system` inside messages: Claude Code sends one
IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
# Blocks a client may send back from an earlier answer that carry nothing this relay can use.
IGNORED_BLOCKS = ("thinking", "redacted_thinking")
CHOICES = {"auto": "auto", "any": "required", "tool": "named", "none": "none"}


@dataclass
class MessagesRequest:
    model: str  # as the client sent it, echoed back
    upstream_model: str
    web_search: bool
    system: list[str]  # the system prompt's text blocks
    messages: list[dict[str, Any]]  # validated Anthropic messages
    max_tokens: int  # what the relay applies: the client's value capped by ANTHROPIC_MAX_TOKENS_CAP
    stop_sequences: list[str] = field(default_factory=list)
    stream: bool = False
    tools: ToolSpec | None = None


def _fail(message: str, param: str | None = None) -> InvalidRequest:
    return InvalidRequest(f"{param}: {message}" if param else message, param=param)


def resolve_model(body: dict[str, Any]) -> tuple[str, str, bool]:
    """(as sent, upstream id, web search): the one call through which the chat endpoint's model
    resolution (aliases, a default model) applies to Messages too."""
    return parse_model(body.get("model"))


def _text(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise _fail("must be a string", param)
    return value


def _system(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if not isinstance(value, list):
        raise _fail("must be a string or a list of text blocks", "system")
    texts = []
    for i, block in enumerate(value):
        if not isinstance(block, dict) or block.get("type") != "text":
            raise _fail("must be a text block", f"system.{i}")
        texts.append(_text(block.get("text"), f"system.{i}.text"))
    return texts


def _image(block: dict[str, Any], param: str) -> None:
    source = block.get("source")
    if not isinstance(source, dict):
        raise _fail("must be an object", f"{param}.source")
    kind = source.get("type")
    if kind == "base64":
        if source.get("media_type") not in IMAGE_MEDIA_TYPES:
            raise _fail(f"must be one of {', '.join(IMAGE_MEDIA_TYPES)}", f"{param}.source.media_type")
        _text(source.get("data"), f"{param}.source.data")
    elif kind == "url":
        url = _text(source.get("url"), f"{param}.source.url")
        if not url.startswith(("http://", "https://")):
            raise _fail("must be an http(s) URL", f"{param}.source.url")
    else:
        raise _fail("images need a `base64` or `url` source; uploaded files are not supported by this relay",
                    f"{param}.source.type")


def _tool_result_content(value: Any, param: str) -> None:
    if value is None or isinstance(value, str):
        return
    if not isinstance(value, list):
        raise _fail("must be a string or a list of text and image blocks", param)
    for j, block in enumerate(value):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            _text(block.get("text"), f"{param}.{j}.text")
        elif kind == "image":
            _image(block, f"{param}.{j}")
        else:
            raise _fail("tool results may hold text and image blocks only", f"{param}.{j}.type")


def _block(block: Any, role: str, param: str) -> None:
    if not isinstance(block, dict):
        raise _fail("must be an object", param)
    kind = block.get("type")
    if kind == "text":
        _text(block.get("text"), f"{param}.text")
    elif kind == "image":
        _image(block, param)
    elif kind == "tool_use" and role == "assistant":
        _text(block.get("id"), f"{param}.id")
        _text(block.get("name"), f"{param}.name")
        if not isinstance(block.get("input"), dict):
            raise _fail("must be an object", f"{param}.input")
    elif kind == "tool_result" and role == "user":
        _text(block.get("tool_use_id"), f"{param}.tool_use_id")
        _tool_result_content(block.get("content"), f"{param}.content")
        if block.get("is_error") is not None and not isinstance(block["is_error"], bool):
            raise _fail("must be a boolean", f"{param}.is_error")
    elif kind == "document":
        raise _fail("`document` blocks (PDFs and other files) are not supported by this relay: 1min.ai's "
                    "chat takes text and images only; send the document's text as a `text` block", f"{param}.type")
    elif kind in IGNORED_BLOCKS:
        return
    else:
        raise _fail(f"blocks of type `{kind}` are not supported here; this relay accepts text, image, "
                    "tool_use (assistant) and tool_result (user)", f"{param}.type")


def _messages(value: Any) -> list[dict[str, Any]]:
    if value is None:
        raise _fail("Field required", "messages")
    if not isinstance(value, list) or not value:
        raise _fail("must be a non-empty list", "messages")
    for i, message in enumerate(value):
        param = f"messages.{i}"
        if not isinstance(message, dict):
            raise _fail("must be an object", param)
        role = message.get("role")
        if role not in ROLES:
            raise _fail("must be `user` or `assistant`", f"{param}.role")
        content = message.get("content")
        if isinstance(content, str):
            continue
        if not isinstance(content, list):
            raise _fail("must be a string or a list of content blocks", f"{param}.content")
        for j, block in enumerate(content):
            _block(block, role, f"{param}.content.{j}")
    return value


def _max_tokens(value: Any, cap: int) -> int:
    if value is None:
        raise _fail("Field required", "max_tokens")
    value = whole_number(value)
    if value is None or not 1 <= value <= MAX_INTEGER:
        raise _fail(f"must be a positive integer (at most {MAX_INTEGER})", "max_tokens")
    return min(value, cap)  # clamped, not refused: Claude Code asks for 128000


def _number(body: dict[str, Any], name: str, low: float, high: float | None) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low or (high is not None and value > high):
        raise _fail(f"must be a number between {low:g} and {high:g}" if high is not None
                    else f"must be a number of at least {low:g}", name)


def _stop_sequences(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise _fail("must be a list of strings", "stop_sequences")
    return [s for s in value if s]


def _tools(value: Any, choice: Any) -> ToolSpec | None:
    if value is None and choice is None:
        return None
    if value is not None and not isinstance(value, list):
        raise _fail("must be a list", "tools")
    tools = []
    for i, tool in enumerate(value or []):
        param = f"tools.{i}"
        if not isinstance(tool, dict):
            raise _fail("must be an object", param)
        if tool.get("type") not in (None, "custom"):
            raise _fail(f"Anthropic's server tools (`{tool.get('type')}`) are not available through this "
                        "relay; declare client tools with `name` and `input_schema`", f"{param}.type")
        name = _text(tool.get("name"), f"{param}.name")
        schema = tool.get("input_schema")
        if not isinstance(schema, dict):
            raise _fail("must be a JSON schema object", f"{param}.input_schema")
        description = tool.get("description") or ""
        tools.append(Tool(name=name, description=_text(description, f"{param}.description"), parameters=schema))
    mode, name, parallel = "auto", None, True
    if choice is not None:
        if not isinstance(choice, dict) or choice.get("type") not in CHOICES:
            raise _fail("must be an object whose `type` is auto, any, tool or none", "tool_choice")
        mode = CHOICES[choice["type"]]
        parallel = not bool(choice.get("disable_parallel_tool_use"))
        if mode == "named":
            name = _text(choice.get("name"), "tool_choice.name")
            if not any(t.name == name for t in tools):
                raise _fail(f"names `{name}`, which is not in `tools`", "tool_choice.name")
    if mode in ("required", "named") and not tools:
        raise _fail("needs `tools`", "tool_choice")
    return ToolSpec(tuple(tools), ToolChoice(mode, name), parallel)


def parse_messages_request(body: Any, max_tokens_cap: int, *, counting: bool = False) -> MessagesRequest:
    """A Messages body, checked; unknown fields (thinking, context_management, betas' fields) are
    ignored, as are temperature, top_p, top_k and metadata once checked (1min.ai takes none).
    `counting`: a count_tokens body, which has no max_tokens, stream or stop_sequences."""
    body = require_object(body)
    model, upstream_model, web_search = resolve_model(body)
    messages = _messages(body.get("messages"))
    system = _system(body.get("system"))
    tools = _tools(body.get("tools"), body.get("tool_choice"))
    if counting:
        return MessagesRequest(model, upstream_model, web_search, system, messages, max_tokens_cap, tools=tools)
    _number(body, "temperature", 0, 1)
    _number(body, "top_p", 0, 1)
    _number(body, "top_k", 0, None)
    if body.get("metadata") is not None and not isinstance(body["metadata"], dict):
        raise _fail("must be an object", "metadata")
    stream = body.get("stream") or False
    if not isinstance(stream, bool):
        raise _fail("must be a boolean", "stream")
    return MessagesRequest(
        model, upstream_model, web_search, system, messages, _max_tokens(body.get("max_tokens"), max_tokens_cap),
        stop_sequences=_stop_sequences(body.get("stop_sequences")), stream=stream, tools=tools,
    )
