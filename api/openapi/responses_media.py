"""OpenAPI schemas of the Responses, images and audio endpoints (see api/openapi/base.py for the idea)."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from api.openapi.base import ERROR, EVENT_STREAM, NOT_BLANK_PATTERN, NULLABLE_STRING, errors
from api.request_schemas.media import IMAGE_QUALITIES, IMAGE_RESPONSE_FORMATS
from api.translators.responses import IMAGE_DETAILS, TEXT_PARTS


def _optional_choice(choices: tuple[str, ...]) -> dict:
    """One of `choices`; empty or null means the default, as the relay reads it."""
    return {"type": "string", "enum": [*choices, ""], "nullable": True}


# What the relay refuses, the document refuses too: an empty or all-blank string is a 400.
NON_BLANK = {"type": "string", "minLength": 1, "pattern": NOT_BLANK_PATTERN}
MODEL_ID = {**NON_BLANK, "description": "A 1min.ai model id."}
# 403: a relay key limited to other models (keys/); 503 also: no pool key left.
CALL_ERRORS = (400, 401, 403, 404, 413, 415, 429, 502, 503, 504)

RESPONSE = {
    "type": "object",
    "required": ["id", "object", "created_at", "status", "model", "output"],
    "properties": {
        "id": {"type": "string"},
        "object": {"type": "string", "enum": ["response"]},
        "created_at": {"type": "integer"},
        "status": {"type": "string"},
        "model": {"type": "string"},
        "output": {"type": "array", "items": {"type": "object"}},
        "usage": {"type": "object", "nullable": True},
    },
}
_TEXT_PART = {"type": "object", "required": ["type", "text"], "properties": {
    "type": {"type": "string", "enum": list(TEXT_PARTS)}, "text": {"type": "string"}}}
_REFUSAL_PART = {"type": "object", "required": ["type", "refusal"], "properties": {
    "type": {"type": "string", "enum": ["refusal"]}, "refusal": {"type": "string"}}}
_IMAGE_PART = {"type": "object", "required": ["type", "image_url"], "properties": {
    "type": {"type": "string", "enum": ["input_image"]},
    "image_url": {"type": "string", "minLength": 1, "description": "An http(s) URL or a data: URI."},
    "detail": {"type": "string", "enum": [*IMAGE_DETAILS, ""], "nullable": True}}}


def _message(roles: list[str], parts: list[dict]) -> dict:
    return {"type": "object", "required": ["role", "content"], "properties": {
        "type": {"type": "string", "enum": ["message"]},
        "role": {"type": "string", "enum": roles},
        "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"anyOf": parts}}]}}}


_CALL_ID = {"type": "string", "minLength": 1}
INPUT_ITEM = {"anyOf": [
    _message(["user", "system", "developer"], [_TEXT_PART, _REFUSAL_PART, _IMAGE_PART]),
    _message(["assistant"], [_TEXT_PART, _REFUSAL_PART]),
    {"type": "object", "required": ["type", "call_id", "name"], "properties": {
        "type": {"type": "string", "enum": ["function_call"]}, "call_id": _CALL_ID, "name": _CALL_ID,
        "arguments": {"type": "string"}}},
    {"type": "object", "required": ["type", "call_id", "output"], "properties": {
        "type": {"type": "string", "enum": ["function_call_output"]}, "call_id": _CALL_ID,
        "output": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"anyOf": [_TEXT_PART, _IMAGE_PART]}}]}}},
]}
RESPONSES_REQUEST = {
    "type": "object",
    "required": ["input"],
    "properties": {
        "model": {**MODEL_ID, "nullable": True, "description": (
            "A 1min.ai model id or an alias; append `:online` for web search. Omitted: DEFAULT_MODEL.")},
        "input": {"oneOf": [{"type": "string", "minLength": 1},
                            {"type": "array", "minItems": 1, "items": INPUT_ITEM}]},
        "instructions": NULLABLE_STRING,
        "stream": {"type": "boolean", "nullable": True},
        "store": {"type": "boolean", "nullable": True},
        "previous_response_id": NULLABLE_STRING,
        "max_output_tokens": {"type": "integer", "minimum": 1, "maximum": 2147483647, "nullable": True},
        "text": {"type": "object", "nullable": True, "description": "`format`: text, json_object or json_schema.",
                 "properties": {
                     "format": {"nullable": True, "anyOf": [
                         {"type": "object", "required": ["type"], "properties": {
                             "type": {"type": "string", "enum": ["text", "json_object"]}}},
                         {"type": "object", "required": ["type", "name", "schema"], "properties": {
                             "type": {"type": "string", "enum": ["json_schema"]},
                             "name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                             "schema": {"type": "object"}, "strict": {"type": "boolean", "nullable": True},
                             "description": {"type": "string", "nullable": True}}}]},
                     "verbosity": {"type": "string", "enum": ["low", "medium", "high"], "nullable": True}}},
        "metadata": {"type": "object", "nullable": True, "maxProperties": 16,
                     "additionalProperties": {"type": "string", "maxLength": 512}},
    },
}
DELETED = {
    "type": "object", "required": ["id", "object", "deleted"],
    "properties": {"id": {"type": "string"}, "object": {"type": "string"}, "deleted": {"type": "boolean"}},
}
ITEM_LIST = {
    "type": "object", "required": ["object", "data", "has_more"],
    "properties": {
        "object": {"type": "string", "enum": ["list"]},
        "data": {"type": "array", "items": {"type": "object"}},
        "first_id": NULLABLE_STRING, "last_id": NULLABLE_STRING, "has_more": {"type": "boolean"},
    },
}
IMAGE_REQUEST = {
    "type": "object",
    "required": ["prompt"],
    "properties": {
        "prompt": NON_BLANK,
        "model": {"type": "string", "nullable": True, "description": "Empty: DEFAULT_IMAGE_MODEL."},
        "n": {"type": "integer", "minimum": 1, "maximum": 10, "nullable": True},
        "size": {"type": "string", "pattern": "^(auto|[0-9]{2,5}x[0-9]{2,5})?$", "nullable": True,
                 "description": "`auto` or WIDTHxHEIGHT, e.g. 1024x1024."},
        "quality": _optional_choice(IMAGE_QUALITIES),
        "style": _optional_choice(("vivid", "natural")),
        "response_format": _optional_choice(IMAGE_RESPONSE_FORMATS),
        "background": _optional_choice(("transparent", "opaque", "auto")),
        "output_format": _optional_choice(("png", "jpeg", "webp")),
        "output_compression": {"type": "integer", "minimum": 0, "maximum": 100, "nullable": True},
        "user": {"type": "string", "nullable": True},
    },
}
IMAGES = {
    "type": "object", "required": ["created", "data"],
    "properties": {
        "created": {"type": "integer"},
        "data": {"type": "array", "items": {"type": "object", "properties": {
            "url": {"type": "string"}, "b64_json": {"type": "string"}, "revised_prompt": NULLABLE_STRING}}},
    },
}
AUDIO_FORM = {
    "type": "object",
    "required": ["file", "model"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "The audio, at most MAX_AUDIO_UPLOAD_BYTES."},
        "model": MODEL_ID,
        "language": {"type": "string"},
        "prompt": {"type": "string"},
        "response_format": {"type": "string", "enum": ["json", "text", "srt", "verbose_json", "vtt"]},
        "temperature": {"type": "number"},
    },
}
TRANSCRIPTION = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}
TEXT = {"type": "string"}
SPEECH_REQUEST = {
    "type": "object",
    "required": ["model", "input", "voice"],
    "properties": {
        "model": MODEL_ID,
        "input": {**NON_BLANK, "maxLength": 4096},
        "voice": NON_BLANK,
        "response_format": {"type": "string", "enum": ["mp3", "opus", "aac", "flac", "wav", "pcm"]},
        "speed": {"type": "number", "minimum": 0.25, "maximum": 4.0},
    },
}
AUDIO_BYTES = {"type": "string", "format": "binary"}

responses_create_schema = extend_schema(
    operation_id="createResponse", summary="Create a model response (Responses API).",
    description="OpenAI's Responses API on 1min.ai chat; streamed as typed events with `stream: true`.",
    request={"application/json": RESPONSES_REQUEST},
    responses={(200, "application/json"): OpenApiResponse(RESPONSE),
               (200, "text/event-stream"): OpenApiResponse(EVENT_STREAM), **errors(*CALL_ERRORS)},
)
RESPONSE_ID = OpenApiParameter("response_id", str, OpenApiParameter.PATH, description="A stored response id.")
responses_get_schema = extend_schema(
    operation_id="getResponse", summary="A stored response.",
    description="Only for the key that created it; unknown or expired ids are a 404.",
    parameters=[RESPONSE_ID, OpenApiParameter(
        "stream", str, OpenApiParameter.QUERY, enum=["false"],
        description="Only `false`: streaming a stored response is not supported.")],
    responses={200: OpenApiResponse(RESPONSE), **errors(400, 401, 404)},
)
responses_delete_schema = extend_schema(
    operation_id="deleteResponse", summary="Delete a stored response.",
    description="Deletes a response stored for this key.",
    parameters=[RESPONSE_ID], responses={200: OpenApiResponse(DELETED), **errors(401, 404)},
)
responses_items_schema = extend_schema(
    operation_id="listInputItems", summary="The input items of a stored response.",
    description="Paged with `limit` (1-100), `order` (`asc`/`desc`) and `after` (an item id).",
    parameters=[
        RESPONSE_ID,
        OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": 100}, OpenApiParameter.QUERY),
        OpenApiParameter("order", str, OpenApiParameter.QUERY, enum=["asc", "desc"]),
        OpenApiParameter("after", str, OpenApiParameter.QUERY),
    ],
    responses={200: OpenApiResponse(ITEM_LIST), **errors(400, 401, 404)},
)
images_schema = extend_schema(
    operation_id="createImage", summary="Generate images from a prompt.",
    description="1min.ai's image generator; images as CDN URLs or base64.",
    request={"application/json": IMAGE_REQUEST},
    responses={200: OpenApiResponse(IMAGES), **errors(*CALL_ERRORS)},
)


def audio_text_schema(operation_id: str, summary: str):
    return extend_schema(
        operation_id=operation_id, summary=summary,
        description="A multipart upload; the answer's type follows `response_format`.",
        request={"multipart/form-data": AUDIO_FORM},
        responses={(200, "application/json"): OpenApiResponse(TRANSCRIPTION),
                   (200, "text/plain"): OpenApiResponse(TEXT), (200, "text/vtt"): OpenApiResponse(TEXT),
                   **errors(*CALL_ERRORS)},
    )


speech_schema = extend_schema(
    operation_id="createSpeech", summary="Text to speech.",
    description="The audio bytes in `response_format`, streamed as they arrive from 1min.ai.",
    request={"application/json": SPEECH_REQUEST},
    responses={**{(200, f"audio/{kind}"): OpenApiResponse(AUDIO_BYTES)
                  for kind in ("mpeg", "opus", "aac", "flac", "wav", "pcm")},
               **errors(*CALL_ERRORS)},
)

__all__ = ["ERROR"]
