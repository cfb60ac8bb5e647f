"""Validation of OpenAI's image, audio and speech requests into typed requests; errors name the param."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidRequest
from api.request_schemas.text import require_object, whole_number

TRANSCRIBE, TRANSLATE = "transcribe", "translate"
IMAGE_QUALITIES = ("standard", "hd", "low", "medium", "high", "auto")
IMAGE_RESPONSE_FORMATS = ("url", "b64_json")
AUDIO_RESPONSE_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
SPEECH_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
MAX_SPEECH_INPUT = 4096
_SIZE = re.compile(r"^(auto|\d{2,5}x\d{2,5})$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class ImageRequest:
    prompt: str
    model: str | None = None  # None: the configured default image model
    n: int = 1
    size: str | None = None
    quality: str | None = None
    style: str | None = None
    response_format: str = "url"
    user: str | None = None
    background: str | None = None
    output_format: str | None = None
    output_compression: int | None = None


@dataclass(frozen=True)
class AudioTextRequest:
    task: str  # TRANSCRIBE or TRANSLATE
    model: str
    response_format: str = "json"
    language: str | None = None
    prompt: str | None = None
    temperature: float | None = None


@dataclass(frozen=True)
class SpeechRequest:
    model: str
    input: str
    voice: str
    response_format: str = "mp3"
    speed: float = 1.0


def _invalid(message: str, param: str, code: str = "invalid_value") -> InvalidRequest:
    return InvalidRequest(message, param=param, code=code)


def _missing(param: str) -> InvalidRequest:
    return _invalid(f"You must provide `{param}`.", param, "missing_required_parameter")


def _text(body: Any, name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise _missing(name)
        return None
    if not isinstance(value, str):
        raise _invalid(f"`{name}` must be a string.", name, "invalid_type")
    return value


def _choice(body: Any, name: str, choices: tuple[str, ...], default: str | None) -> str | None:
    value = _text(body, name)
    if value is None:
        return default
    if value not in choices:
        raise _invalid(f"`{name}` must be one of {', '.join(choices)}; got {value!r}.", name)
    return value


def _number(body: Any, name: str, low: float, high: float, default: float | None) -> float | None:
    value = body.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, str):  # multipart fields arrive as text
        try:
            value = float(value)
        except ValueError:
            raise _invalid(f"`{name}` must be a number.", name, "invalid_type") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _invalid(f"`{name}` must be a number.", name, "invalid_type")
    if not low <= value <= high:
        raise _invalid(f"`{name}` must be between {low:g} and {high:g}; got {value:g}.", name)
    return float(value)


def _integer(body: Any, name: str, low: int, high: int, default: int | None) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    value = whole_number(value)
    if value is None:
        raise _invalid(f"`{name}` must be an integer.", name, "invalid_type")
    if not low <= value <= high:
        raise _invalid(f"`{name}` must be between {low} and {high}; got {value}.", name)
    return value


def _not_streaming(body: Any, what: str) -> None:
    stream = body.get("stream")
    if stream is True or (isinstance(stream, str) and stream.lower() == "true"):
        raise _invalid(f"Streaming is not available for {what} through 1min.ai; leave `stream` off.",
                       "stream", "unsupported_value")


def parse_image(body: Any) -> ImageRequest:
    body = require_object(body)
    prompt = _text(body, "prompt", required=True)
    if not prompt.strip():
        raise _missing("prompt")
    _not_streaming(body, "image generation")
    size = _text(body, "size")
    if size is not None and not _SIZE.match(size):
        raise _invalid("`size` must be `auto` or WIDTHxHEIGHT, e.g. 1024x1024.", "size")
    return ImageRequest(
        prompt=prompt,
        model=_text(body, "model"),
        n=_integer(body, "n", 1, 10, 1),
        size=size,
        quality=_choice(body, "quality", IMAGE_QUALITIES, None),
        style=_choice(body, "style", ("vivid", "natural"), None),
        response_format=_choice(body, "response_format", IMAGE_RESPONSE_FORMATS, "url"),
        user=_text(body, "user"),
        background=_choice(body, "background", ("transparent", "opaque", "auto"), None),
        output_format=_choice(body, "output_format", ("png", "jpeg", "webp"), None),
        output_compression=_integer(body, "output_compression", 0, 100, None),
    )


def _values(form: Any, name: str) -> list[str]:
    """All values of a repeated multipart field (`name[]` as the SDK sends it, or `name`)."""
    getlist = getattr(form, "getlist", None)
    if getlist is None:
        value = form.get(name)
        return value if isinstance(value, list) else ([value] if value else [])
    return [v for v in getlist(f"{name}[]") + getlist(name) if isinstance(v, str) and v]


def parse_audio_text(form: Any, task: str) -> AudioTextRequest:
    """Fields of a transcription or translation form (the file is checked by the service)."""
    model = _text(form, "model", required=True).strip()
    response_format = _text(form, "response_format") or "json"
    if response_format == "diarized_json":
        raise _invalid("`diarized_json` needs speaker diarization, which 1min.ai does not offer.",
                       "response_format", "unsupported_value")
    if response_format not in AUDIO_RESPONSE_FORMATS:
        raise _invalid(f"`response_format` must be one of {', '.join(AUDIO_RESPONSE_FORMATS)}.",
                       "response_format")
    _not_streaming(form, "transcriptions")
    if "word" in _values(form, "timestamp_granularities"):
        raise _invalid("Word timestamps are not available through 1min.ai; use `segment`.",
                       "timestamp_granularities", "unsupported_value")
    if _values(form, "include"):
        raise _invalid("`include` (log probabilities) is not available through 1min.ai.",
                       "include", "unsupported_value")
    language = _text(form, "language") if task == TRANSCRIBE else None
    if language is not None and not _LANGUAGE.match(language.strip()):
        raise _invalid("`language` must be a language code such as `en` or `en-US`.", "language")
    return AudioTextRequest(
        task=task,
        model=model,
        response_format=response_format,
        language=language.strip() if language else None,
        prompt=_text(form, "prompt"),
        temperature=_number(form, "temperature", 0.0, 1.0, None),
    )


def parse_speech(body: Any) -> SpeechRequest:
    body = require_object(body)
    model = _text(body, "model", required=True).strip()
    text = _text(body, "input", required=True)
    if len(text) > MAX_SPEECH_INPUT:
        raise _invalid(f"`input` may be at most {MAX_SPEECH_INPUT} characters; it has {len(text)}.",
                       "input", "string_above_max_length")
    voice = body.get("voice")
    if isinstance(voice, dict):  # newer SDKs may send a custom voice as {"id": ...}
        voice = voice.get("id")
    if voice is None or voice == "":
        raise _missing("voice")
    if not isinstance(voice, str):
        raise _invalid("`voice` must be a string.", "voice", "invalid_type")
    if _text(body, "instructions"):
        raise _invalid("`instructions` are only understood by gpt-4o-mini-tts, which 1min.ai "
                       "does not offer.", "instructions", "unsupported_value")
    if body.get("stream_format") not in (None, "audio"):
        raise _invalid("Only `stream_format: audio` is available.", "stream_format",
                       "unsupported_value")
    return SpeechRequest(
        model=model,
        input=text,
        voice=voice,
        response_format=_choice(body, "response_format", SPEECH_FORMATS, "mp3"),
        speed=_number(body, "speed", 0.25, 4.0, 1.0),
    )
