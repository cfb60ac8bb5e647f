"""OpenAI speech synthesis to 1min.ai TEXT_TO_SPEECH, and what to call the audio that comes back; pure.

Each backend behind TEXT_TO_SPEECH takes its own fields (contract §8): OpenAI voices take
`voice`/`response_format`/`speed`; ElevenLabs takes `voice_id`/`output_format` and no speed;
Qwen always answers WAV. The bytes are checked after download: they are labelled with what
they are, not with what was asked for.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import InvalidRequest
from api.media.media_types import AudioType
from api.request_schemas.media import SpeechRequest
from api.translators.features import FeatureBody

SPEECH_FEATURE = "TEXT_TO_SPEECH"
CONTENT_TYPES = {"mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac",
                 "flac": "audio/flac", "wav": "audio/wav", "pcm": "audio/pcm"}
# What each response_format looks like on the wire (sniffed format, Ogg codec).
_CONTAINERS = {"mp3": {("mp3", None)}, "opus": {("ogg", "opus")}, "flac": {("flac", None)},
               "aac": {("aac", None), ("m4a", None), ("mp4", None)}, "wav": {("wav", None)}}
# OpenAI's voices for tts-1 and tts-1-hd (ballad and verse belong to newer models only).
OPENAI_VOICES = ("alloy", "ash", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer")
ELEVENLABS_FORMATS = {"mp3": "mp3_44100_128", "opus": "opus_48000_64", "pcm": "pcm_24000"}
FIELD_PARAMS = {"text": "input", "voice": "voice", "voice_id": "voice", "speed": "speed",
                "response_format": "response_format", "output_format": "response_format"}


@dataclass(frozen=True)
class Delivery:
    content_type: str
    wav_to_pcm: bool = False  # convert the downloaded WAV into raw 24 kHz mono PCM
    actual_format: str | None = None  # set when the bytes are not the requested format


def _invalid(message: str, param: str) -> InvalidRequest:
    return InvalidRequest(message, param=param, code="invalid_value")


def _no_speed(request: SpeechRequest) -> None:
    if request.speed != 1.0:
        raise _invalid(f"{request.model} has no speed control; leave `speed` at 1.0.", "speed")


def build_body(request: SpeechRequest) -> FeatureBody:
    name = request.model.lower()
    fmt = request.response_format
    prompt: dict[str, Any] = {"text": request.input}
    if name.startswith("elevenlabs"):
        if fmt not in ELEVENLABS_FORMATS:
            raise _invalid(f"{request.model} produces {', '.join(ELEVENLABS_FORMATS)}; "
                           f"`response_format` {fmt!r} is not available.", "response_format")
        _no_speed(request)
        prompt.update({"voice_id": request.voice, "output_format": ELEVENLABS_FORMATS[fmt]})
    elif name.startswith("qwen"):
        if fmt not in ("wav", "pcm"):
            raise _invalid(f"{request.model} produces WAV only; ask for `wav` or `pcm`.",
                           "response_format")
        _no_speed(request)
        prompt["voice"] = request.voice
    else:
        if name in ("tts-1", "tts-1-hd") and request.voice not in OPENAI_VOICES:
            raise _invalid(f"`voice` {request.voice!r} is not available for {request.model}; "
                           f"choose one of {', '.join(OPENAI_VOICES)}.", "voice")
        # Raw PCM has no header to check; WAV is asked for and unwrapped by the relay instead.
        prompt.update({"voice": request.voice, "response_format": "wav" if fmt == "pcm" else fmt,
                       "speed": request.speed})
    return {"type": SPEECH_FEATURE, "model": request.model, "conversationId": SPEECH_FEATURE,
            "promptObject": prompt}


def delivery(requested: str, sniffed: AudioType | None) -> Delivery:
    """How to hand the downloaded bytes to the client, given what they turned out to be."""
    if requested == "pcm":
        if sniffed is None:
            return Delivery(CONTENT_TYPES["pcm"])  # headerless bytes: raw PCM as asked
        if sniffed.format == "wav":
            return Delivery(CONTENT_TYPES["pcm"], wav_to_pcm=True)
    elif sniffed is not None and (sniffed.format, sniffed.codec if sniffed.format == "ogg" else None) \
            in _CONTAINERS[requested]:
        return Delivery(CONTENT_TYPES[requested])
    if sniffed is None:
        return Delivery("application/octet-stream", actual_format="unknown")
    # 1min.ai answered another format than asked: say so rather than mislabel the bytes.
    actual = "opus" if sniffed.codec == "opus" else sniffed.format
    return Delivery(sniffed.mime, actual_format=actual)
