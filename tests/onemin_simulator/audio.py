"""SPEECH_TO_TEXT, AUDIO_TRANSLATOR and TEXT_TO_SPEECH on /api/features."""
from __future__ import annotations

from typing import Any

from .context import Ctx, Reply, with_timing
from .envelopes import ApiError
from .feature_support import (feature_record, missing_fields, prompt_object, require_audio,
                              require_model, store_generated, temporary_url_field)
from .media import silent_mp3, silent_wav
from .wire import json_response

GOOGLE_SPEECH = {"latest_long", "latest_short", "phone_call", "telephony", "telephony_short",
                 "medical_dictation", "medical_conversation"}
OPENAI_VOICE_MODELS = {"tts-1", "tts-1-hd"}
TTS_MAX_CHARS = 4096


def _text_result(ctx: Ctx, body: dict[str, Any], feature: str, default: str) -> Reply:
    model = require_model(ctx, body, feature)
    po = prompt_object(body)
    asset = require_audio(ctx, po, model["modelId"], feature)
    if model["modelId"] in GOOGLE_SPEECH and not po.get("language"):
        raise missing_fields(model["modelId"], feature, ["language"])
    if feature == "AUDIO_TRANSLATOR" and model["modelId"].startswith("gemini") \
            and not po.get("targetLanguage"):
        raise missing_fields(model["modelId"], feature, ["targetLanguage"])
    script = ctx.take_script()
    name = asset["filename"].rsplit("/", 1)[-1]
    text = script["text"] if isinstance(script.get("text"), str) else default.format(name=name)
    record = feature_record(ctx, body, model, feature, [text], {}, 100, script)
    return with_timing(json_response({"aiRecord": record}), script)


def transcribe(ctx: Ctx, body: dict[str, Any]) -> Reply:
    # The transcript is plain text whatever `response_format` asks for (srt/vtt unverified live).
    return _text_result(ctx, body, "SPEECH_TO_TEXT", "Simulated transcript of {name}")


def translate(ctx: Ctx, body: dict[str, Any]) -> Reply:
    return _text_result(ctx, body, "AUDIO_TRANSLATOR", "Simulated English translation of {name}")


def speak(ctx: Ctx, body: dict[str, Any]) -> Reply:
    feature = "TEXT_TO_SPEECH"
    model = require_model(ctx, body, feature)
    po = prompt_object(body)
    text = po.get("text")
    if not isinstance(text, str) or not text:
        raise missing_fields(model["modelId"], feature, ["text"])
    if len(text) > TTS_MAX_CHARS:
        raise ApiError(400, "REQUEST_BODY_VALIDATION_FAILED",
                       f"text must be shorter than or equal to {TTS_MAX_CHARS} characters")
    if model["modelId"] in OPENAI_VOICE_MODELS and not po.get("voice"):
        raise missing_fields(model["modelId"], feature, ["voice"])
    script = ctx.take_script()
    if po.get("response_format") == "wav":
        path = store_generated(ctx, "audios", "wav", silent_wav(), "audio/wav")
    else:
        # Live calls returned .mp3 for mp3 requests; other formats are unverified, so they get
        # the same MP3 bytes and name rather than an invented container.
        path = store_generated(ctx, "audios", "mp3", silent_mp3(), "audio/mpeg")
    record = feature_record(ctx, body, model, feature, [path], {}, len(text), script,
                            extra=temporary_url_field(ctx, path, script))
    return with_timing(json_response({"aiRecord": record}), script)
