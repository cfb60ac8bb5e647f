"""OpenAPI schemas of the Anthropic Messages endpoints (see api/openapi/base.py for the idea)."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema

from api.openapi.base import NOT_BLANK_PATTERN

ANTHROPIC_ERROR = {
    "type": "object",
    "description": "Anthropic's error envelope; every error of the Messages endpoints has this shape.",
    "required": ["type", "error"],
    "properties": {
        "type": {"type": "string", "enum": ["error"]},
        "error": {
            "type": "object",
            "required": ["type", "message"],
            "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
        },
    },
}
# 529 (overloaded_error): the relay's 503s (limits unavailable, no upstream key) as Anthropic says them.
ERROR_STATUSES = (400, 401, 402, 403, 404, 413, 415, 429, 502, 504, 529)

TEXT_BLOCK = {
    "type": "object", "required": ["type", "text"],
    "properties": {"type": {"type": "string", "enum": ["text"]}, "text": {"type": "string"}},
}
IMAGE_BLOCK = {
    "type": "object", "required": ["type", "source"],
    "properties": {
        "type": {"type": "string", "enum": ["image"]},
        "source": {"oneOf": [
            {"type": "object", "required": ["type", "media_type", "data"], "properties": {
                "type": {"type": "string", "enum": ["base64"]},
                "media_type": {"type": "string", "enum": ["image/jpeg", "image/png", "image/gif", "image/webp"]},
                "data": {"type": "string"}}},
            {"type": "object", "required": ["type", "url"], "properties": {
                "type": {"type": "string", "enum": ["url"]},
                "url": {"type": "string", "pattern": "^https?://[^\\s]+$"}}},
        ]},
    },
}
TOOL_USE_BLOCK = {
    "type": "object", "required": ["type", "id", "name", "input"],
    "properties": {
        "type": {"type": "string", "enum": ["tool_use"]}, "id": {"type": "string"}, "name": {"type": "string"},
        "input": {"type": "object"},
    },
}
TOOL_RESULT_BLOCK = {
    "type": "object", "required": ["type", "tool_use_id"],
    "properties": {
        "type": {"type": "string", "enum": ["tool_result"]}, "tool_use_id": {"type": "string"},
        "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"oneOf": [TEXT_BLOCK, IMAGE_BLOCK]}}]},
        "is_error": {"type": "boolean"},
    },
}
INPUT_MESSAGE = {
    "type": "object", "required": ["role", "content"],
    "properties": {
        "role": {"type": "string", "enum": ["user", "assistant"]},
        "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {
            "oneOf": [TEXT_BLOCK, IMAGE_BLOCK, TOOL_USE_BLOCK, TOOL_RESULT_BLOCK]}}]},
    },
}
TOOL = {
    "type": "object", "required": ["name", "input_schema"],
    "properties": {"name": {"type": "string"}, "description": {"type": "string"}, "input_schema": {"type": "object"}},
}
COMMON = {
    "model": {"type": "string", "minLength": 1, "pattern": NOT_BLANK_PATTERN, "nullable": True, "description": "A 1min.ai model id (or an alias the relay maps to one). Omitted: DEFAULT_MODEL."},
    "messages": {"type": "array", "minItems": 1, "items": INPUT_MESSAGE},
    "system": {"nullable": True, "oneOf": [{"type": "string"}, {"type": "array", "items": TEXT_BLOCK}]},
    "tools": {"type": "array", "items": TOOL, "nullable": True},
    "tool_choice": {"type": "object", "nullable": True, "required": ["type"], "properties": {
        "type": {"type": "string", "enum": ["auto", "any", "tool", "none"]}, "name": {"type": "string"},
        "disable_parallel_tool_use": {"type": "boolean", "nullable": True}}},
}
# Every optional field may be null: the relay reads null as absent, as the SDKs' `None` means.
MESSAGES_REQUEST = {
    "type": "object",
    "required": ["max_tokens", "messages"],
    "properties": {
        **COMMON,
        "max_tokens": {"type": "integer", "minimum": 1, "maximum": 2147483647, "description": "Applied by the relay, capped by ANTHROPIC_MAX_TOKENS_CAP."},
        "stop_sequences": {"type": "array", "items": {"type": "string"}, "nullable": True},
        "stream": {"type": "boolean", "nullable": True},
        "temperature": {"type": "number", "nullable": True, "minimum": 0, "maximum": 1, "description": "Accepted, not forwarded."},
        "top_p": {"type": "number", "nullable": True, "minimum": 0, "maximum": 1, "description": "Accepted, not forwarded."},
        "top_k": {"type": "integer", "nullable": True, "minimum": 0, "description": "Accepted, not forwarded."},
        "metadata": {"type": "object", "nullable": True, "description": "Accepted, not forwarded."},
    },
}
COUNT_TOKENS_REQUEST = {"type": "object", "required": ["messages"], "properties": COMMON}
USAGE = {
    "type": "object", "required": ["input_tokens", "output_tokens"],
    "properties": {k: {"type": "integer", "minimum": 0} for k in (
        "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")},
}
MESSAGE = {
    "type": "object",
    "required": ["id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"],
    "properties": {
        "id": {"type": "string"},
        "type": {"type": "string", "enum": ["message"]},
        "role": {"type": "string", "enum": ["assistant"]},
        "model": {"type": "string"},
        "content": {"type": "array", "items": {"oneOf": [TEXT_BLOCK, TOOL_USE_BLOCK]}},
        "stop_reason": {"type": "string", "enum": ["end_turn", "max_tokens", "stop_sequence", "tool_use"]},
        "stop_sequence": {"type": "string", "nullable": True},
        "usage": USAGE,
    },
}
TOKEN_COUNT = {"type": "object", "required": ["input_tokens"], "properties": {"input_tokens": {"type": "integer", "minimum": 0}}}
EVENT_STREAM = {  # one server-sent event: `event:` names it, `data:` holds its JSON
    "type": "object",
    "properties": {"event": {"type": "string"}, "data": {"type": "string"}, "id": {"type": "string"}},
    "description": "Server-sent events: message_start, content_block_start, ping, content_block_delta, "
                   "content_block_stop, message_delta, message_stop (an `error` event if the answer fails mid-way).",
}


def anthropic_errors(*statuses: int) -> dict:
    return {s: OpenApiResponse(ANTHROPIC_ERROR, description="An error in Anthropic's envelope.") for s in statuses}


messages_schema = extend_schema(
    operation_id="createMessage",
    summary="Create a message (Anthropic's Messages API; streamed with `stream: true`).",
    description="Chat with a 1min.ai model in Anthropic's Messages format: key in `x-api-key` (or a Bearer "
                "token), `anthropic-version` and `anthropic-beta` accepted; see docs/anthropic.md.",
    request={"application/json": MESSAGES_REQUEST},
    responses={
        (200, "application/json"): OpenApiResponse(MESSAGE, description="The message."),
        (200, "text/event-stream"): OpenApiResponse(EVENT_STREAM, description="The message as a stream."),
        **anthropic_errors(*ERROR_STATUSES),
    },
)
count_tokens_schema = extend_schema(
    operation_id="countMessageTokens",
    summary="Count the input tokens of a Messages request.",
    description="`{\"input_tokens\": N}`, counted as the relay counts a prompt when 1min.ai reports none.",
    request={"application/json": COUNT_TOKENS_REQUEST},
    responses={200: OpenApiResponse(TOKEN_COUNT), **anthropic_errors(*ERROR_STATUSES)},
)
