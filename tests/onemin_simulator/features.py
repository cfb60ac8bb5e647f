"""POST /api/features: dispatch by `type`, plus the legacy chat types and CODE_GENERATOR."""
from __future__ import annotations

from typing import Any

from . import audio, images
from .context import Ctx, Reply, with_timing
from .envelopes import ApiError
from .feature_support import feature_record, prompt_object, require_model
from .records import chat_metadata, default_chat_reply, shape_metadata
from .sse import raw_text_stream
from .wire import json_response

LEGACY_CHAT = {"CHAT_WITH_AI", "CHAT_WITH_IMAGE", "CHAT_WITH_PDF", "CHAT_WITH_YOUTUBE_VIDEO"}
HANDLERS = {
    "IMAGE_GENERATOR": images.generate,
    "SPEECH_TO_TEXT": audio.transcribe,
    "AUDIO_TRANSLATOR": audio.translate,
    "TEXT_TO_SPEECH": audio.speak,
}


def unsupported(feature_type: Any) -> ApiError:
    return ApiError(400, "UNKNOWN_ERROR", f"Unsupported feature type: {feature_type}")


def handle(ctx: Ctx) -> Reply:
    body = ctx.body_object()
    feature_type = body.get("type")
    if feature_type in HANDLERS:
        # isStreaming=true only changes anything for the legacy chat types.
        return HANDLERS[feature_type](ctx, body)
    if feature_type == "CODE_GENERATOR":
        return text_feature(ctx, body, "CODE_GENERATOR", "CODE_GENERATOR", stream=False)
    if feature_type in LEGACY_CHAT:
        if ctx.config["legacy_chat"] != "works":
            raise unsupported(feature_type)
        # Legacy chat models are the chat models; images/PDFs are not validated here.
        return text_feature(ctx, body, feature_type, "UNIFY_CHAT_WITH_AI", stream=ctx.streaming)
    raise unsupported(feature_type)


def text_feature(ctx: Ctx, body: dict[str, Any], feature_type: str, catalogue_feature: str,
                 stream: bool) -> Reply:
    """A text answer in the aiRecord envelope, or (legacy streaming) as a raw UTF-8 body."""
    model = require_model(ctx, body, catalogue_feature)
    po = prompt_object(body)
    prompt = po.get("prompt")
    if not isinstance(prompt, str):
        raise ApiError(422, "PROMPT_OBJECT_VALIDATION_FAILED", "promptObject.prompt must be a string")
    script = ctx.take_script()
    text = script["text"] if isinstance(script.get("text"), str) else \
        default_chat_reply(model["modelId"], prompt)
    if stream:
        return raw_text_stream(text, script, ctx.config)
    finish = script.get("finish_reason", ctx.config["finish_reason"])
    full = chat_metadata(prompt, text, model, 0, finish)
    record = feature_record(ctx, body, model, feature_type, [text],
                            shape_metadata(full, ctx.config["metadata_mode"]), full["credit"],
                            script)
    return with_timing(json_response({"aiRecord": record}), script)
