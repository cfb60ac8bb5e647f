"""The relay's own OpenAPI document (drf-spectacular): request and response schemas per endpoint.

Hand-written JSON schemas, close to OpenAI's and to what the relay really accepts and returns, so
schemathesis can fuzz each endpoint and check every answer against them (tests/e2e/test_openapi.py).
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema


# A character Python's str.strip() keeps (ECMA's `\S` also counts \x1c-\x1f as text): a value
# matching it is one the relay does not refuse as blank.
NOT_BLANK_PATTERN = "[^\\t\\n\\u000b\\f\\r \\u001c-\\u001f\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"

NULLABLE_STRING = {"type": "string", "nullable": True}

ERROR = {
    "type": "object",
    "description": "OpenAI's error envelope; every error under /v1/ has this shape.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "param", "code"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": NULLABLE_STRING,
                "code": NULLABLE_STRING,
            },
        }
    },
}

TEXT_PART = {
    "type": "object", "required": ["type", "text"],
    "properties": {"type": {"type": "string", "enum": ["text", "input_text"]}, "text": {"type": "string"}},
}
IMAGE_PART = {
    "type": "object", "required": ["type", "image_url"],
    "properties": {
        "type": {"type": "string", "enum": ["image_url"]},
        "image_url": {
            "type": "object", "required": ["url"],
            "properties": {
                "url": {"type": "string", "description": "An http(s) URL (public addresses only) or a data: URI."},
                "detail": {"type": "string", "enum": ["auto", "low", "high"]},
            },
        },
    },
}
MESSAGE = {
    "type": "object",
    "required": ["role"],
    "properties": {
        "role": {"type": "string", "enum": ["system", "developer", "user", "assistant", "tool", "function"]},
        "content": {
            "nullable": True,
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"oneOf": [TEXT_PART, IMAGE_PART]}}],
        },
        "name": {"type": "string", "nullable": True},
        "tool_call_id": {"type": "string", "nullable": True},
        "tool_calls": {"type": "array", "nullable": True, "items": {
            "type": "object", "required": ["id", "type", "function"],
            "properties": {"id": {"type": "string"}, "type": {"type": "string", "enum": ["function"]},
                           "function": {"type": "object", "required": ["name", "arguments"], "properties": {
                               "name": {"type": "string"}, "arguments": {"type": "string"}}}}}},
        "function_call": {"type": "object", "nullable": True, "required": ["name", "arguments"], "properties": {
            "name": {"type": "string"}, "arguments": {"type": "string"}}},
    },
}
FUNCTION = {
    "type": "object", "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
        "description": {"type": "string"},
        "parameters": {"type": "object", "description": "A JSON Schema for the arguments."},
        "strict": {"type": "boolean", "nullable": True},
    },
}
TOOL = {"type": "object", "required": ["type", "function"],
        "properties": {"type": {"type": "string", "enum": ["function"]}, "function": FUNCTION}}
TOOL_CALL = {
    "type": "object", "required": ["id", "type", "function"],
    "properties": {
        "id": {"type": "string"}, "type": {"type": "string", "enum": ["function"]},
        "function": {"type": "object", "required": ["name", "arguments"],
                     "properties": {"name": {"type": "string"}, "arguments": {"type": "string"}}},
    },
}
CHAT_REQUEST = {
    "type": "object",
    "required": ["messages"],
    "properties": {
        "model": {"type": "string", "minLength": 1, "pattern": NOT_BLANK_PATTERN, "nullable": True, "description": (
            "A 1min.ai model id or an alias the relay defines; append `:online` for web search. "
            "Omitted: the relay's DEFAULT_MODEL.")},
        "messages": {"type": "array", "minItems": 1, "items": MESSAGE},
        "stream": {"type": "boolean", "nullable": True},
        "stream_options": {
            "type": "object", "nullable": True, "properties": {"include_usage": {"type": "boolean"}},
        },
        "max_tokens": {"type": "integer", "minimum": 1, "maximum": 2147483647, "nullable": True},
        "max_completion_tokens": {"type": "integer", "minimum": 1, "maximum": 2147483647, "nullable": True},
        "stop": {"nullable": True, "oneOf": [
            {"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 4}]},
        "n": {"type": "integer", "enum": [1], "nullable": True},
        "tools": {"type": "array", "items": TOOL, "nullable": True,
                  "description": "Function tools, emulated through the prompt (docs/tool-calling.md)."},
        "tool_choice": {"nullable": True, "oneOf": [
            {"type": "string", "enum": ["none", "auto", "required"]},
            {"type": "object", "required": ["type", "function"], "properties": {
                "type": {"type": "string", "enum": ["function"]},
                "function": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}]},
        "parallel_tool_calls": {"type": "boolean", "nullable": True},
        "functions": {"type": "array", "items": FUNCTION, "nullable": True, "description": "Deprecated: use `tools`."},
        "function_call": {"nullable": True, "description": "Deprecated: use `tool_choice`.", "oneOf": [
            {"type": "string", "enum": ["none", "auto"]},
            {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}]},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2, "nullable": True,
                        "description": "Checked, not forwarded."},
        "top_p": {"type": "number", "minimum": 0, "maximum": 1, "nullable": True, "description": "Checked, not forwarded."},
        "user": {"type": "string", "nullable": True, "description": "Checked, not forwarded."},
    },
}
USAGE = {
    "type": "object",
    "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
    "properties": {k: {"type": "integer", "minimum": 0} for k in ("prompt_tokens", "completion_tokens", "total_tokens")},
}
CHAT_COMPLETION = {
    "type": "object",
    "required": ["id", "object", "created", "model", "choices", "usage"],
    "properties": {
        "id": {"type": "string"},
        "object": {"type": "string", "enum": ["chat.completion"]},
        "created": {"type": "integer"},
        "model": {"type": "string"},
        "choices": {"type": "array", "items": {
            "type": "object", "required": ["index", "message", "finish_reason"],
            "properties": {
                "index": {"type": "integer"},
                "finish_reason": {"type": "string",
                                  "enum": ["stop", "length", "content_filter", "tool_calls", "function_call"]},
                "message": {"type": "object", "required": ["role", "content"], "properties": {
                    "role": {"type": "string", "enum": ["assistant"]}, "content": NULLABLE_STRING,
                    "tool_calls": {"type": "array", "items": TOOL_CALL},
                    "function_call": {"type": "object", "required": ["name", "arguments"], "properties": {
                        "name": {"type": "string"}, "arguments": {"type": "string"}}}}},
            },
        }},
        "usage": USAGE,
    },
}
MODEL = {
    "type": "object",
    "required": ["id", "object", "created", "owned_by"],
    "properties": {
        "id": {"type": "string"},
        "object": {"type": "string", "enum": ["model"]},
        "created": {"type": "integer"},
        "owned_by": {"type": "string"},
    },
}
MODEL_LIST = {
    "type": "object",
    "required": ["object", "data"],
    "properties": {"object": {"type": "string", "enum": ["list"]}, "data": {"type": "array", "items": MODEL}},
}
# One server-sent event (what a stream is a sequence of): `data` holds a JSON chunk, or `[DONE]`.
EVENT_STREAM = {
    "type": "object",
    "description": "Server-sent events: chat streams send `data: <chat.completion.chunk>` lines, then "
                   "`data: [DONE]`; Responses streams send typed events (`event:` and `data:`).",
    "properties": {"event": {"type": "string"}, "data": {"type": "string"}, "id": {"type": "string"}},
}


# Any /v1/ call may be refused by the limiter: 403 (blocked client, model outside its policy),
# 429 (rate limit or token budget, with Retry-After) or 503 (limits unavailable, fail-closed).
LIMITER_ERRORS = (403, 429, 503)


def errors(*statuses: int) -> dict[Any, Any]:
    return {status: OpenApiResponse(ERROR, description="An error in OpenAI's envelope.")
            for status in sorted(set(statuses) | set(LIMITER_ERRORS))}


chat_schema = extend_schema(
    operation_id="createChatCompletion",
    summary="Create a chat completion (streamed with `stream: true`).",
    description="Chat with a 1min.ai model in OpenAI's chat-completions format; see the README for what is forwarded.",
    request={"application/json": CHAT_REQUEST},
    responses={
        (200, "application/json"): OpenApiResponse(CHAT_COMPLETION, description="The completion."),
        (200, "text/event-stream"): OpenApiResponse(EVENT_STREAM, description="The completion as a stream."),
        **errors(400, 401, 403, 404, 413, 415, 429, 502, 503, 504),
    },
)
models_schema = extend_schema(
    operation_id="listModels", summary="List the active models.",
    description="Active 1min.ai models in OpenAI's list shape, with 1min.ai's features and capabilities.",
    responses={200: OpenApiResponse(MODEL_LIST), **errors(401, 502, 503)},
)
model_schema = extend_schema(
    operation_id="retrieveModel", summary="One model (ids may contain `/`).",
    description="One active model; unknown or disabled ids are a 404 `model_not_found`.",
    parameters=[OpenApiParameter("model_id", str, OpenApiParameter.PATH, description="A model id.")],
    responses={200: OpenApiResponse(MODEL), **errors(401, 403, 404, 502, 503)},
)


def require_request_bodies(result, generator, request, public):
    """drf-spectacular postprocessing hook: every documented body is required, as the relay requires it."""
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation["requestBody"]["required"] = True
    return result
