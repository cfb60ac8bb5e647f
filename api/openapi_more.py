"""OpenAPI schemas of the Responses, images and audio endpoints (see api/openapi.py for the idea)."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from api.openapi import ERROR, EVENT_STREAM, NULLABLE_STRING, errors

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
RESPONSES_REQUEST = {
    "type": "object",
    "required": ["input"],
    "properties": {
        "model": {"type": "string", "description": (
            "A 1min.ai model id or an alias; append `:online` for web search. Omitted: DEFAULT_MODEL.")},
        "input": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}]},
        "instructions": NULLABLE_STRING,
        "stream": {"type": "boolean", "nullable": True},
        "store": {"type": "boolean", "nullable": True},
        "previous_response_id": NULLABLE_STRING,
        "max_output_tokens": {"type": "integer", "minimum": 1, "nullable": True},
        "text": {"type": "object", "nullable": True, "description": "`format`: text, json_object or json_schema."},
        "metadata": {"type": "object", "nullable": True, "additionalProperties": {"type": "string"}},
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
        "prompt": {"type": "string"},
        "model": {"type": "string"},
        "n": {"type": "integer", "minimum": 1, "maximum": 10, "nullable": True},
        "size": {"type": "string", "description": "`auto` or WIDTHxHEIGHT, e.g. 1024x1024.", "nullable": True},
        "quality": NULLABLE_STRING,
        "style": NULLABLE_STRING,
        "response_format": {"type": "string", "enum": ["url", "b64_json"], "nullable": True},
        "user": {"type": "string"},
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
        "model": {"type": "string"},
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
        "model": {"type": "string"},
        "input": {"type": "string", "maxLength": 4096},
        "voice": {"type": "string"},
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
    parameters=[RESPONSE_ID, OpenApiParameter("stream", str, OpenApiParameter.QUERY, description="Not supported.")],
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
        OpenApiParameter("limit", int, OpenApiParameter.QUERY),
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
