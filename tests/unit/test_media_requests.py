"""Image, audio and speech request validation: defaults, and a 400 naming the parameter."""
import pytest
from django.http import QueryDict

from core.errors import InvalidRequest
from api.request_schemas.media import TRANSCRIBE, TRANSLATE, parse_audio_text, parse_image, parse_speech


def test_image_defaults():
    request = parse_image({"prompt": "a cat"})
    assert (request.model, request.n, request.size, request.response_format, request.quality) == (None, 1, None, "url", None)


@pytest.mark.parametrize(
    "body, param",
    [({}, "prompt"), ({"prompt": "  "}, "prompt"), ({"prompt": 3}, "prompt"),
     ({"prompt": "x", "n": 0}, "n"), ({"prompt": "x", "n": 11}, "n"), ({"prompt": "x", "n": "2"}, "n"),
     ({"prompt": "x", "size": "big"}, "size"), ({"prompt": "x", "quality": "ultra"}, "quality"),
     ({"prompt": "x", "response_format": "png"}, "response_format"), ({"prompt": "x", "style": "moody"}, "style"),
     ({"prompt": "x", "stream": True}, "stream"), ({"prompt": "x", "output_compression": 101}, "output_compression"),
     ({"prompt": "x", "user": 7}, "user")],
)
def test_bad_image_requests_name_the_parameter(body, param):
    with pytest.raises(InvalidRequest) as caught:
        parse_image(body)
    assert caught.value.param == param


def form(**fields) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            data.appendlist(name.replace("__", "[]"), item)
    return data


def test_audio_form_fields_arrive_as_text_and_are_typed():
    request = parse_audio_text(form(model=" whisper-1 ", temperature="0.4", language="en", prompt="p",
                                    response_format="srt", timestamp_granularities__=["segment"]), TRANSCRIBE)
    assert (request.model, request.temperature, request.language, request.prompt, request.response_format) == (
        "whisper-1", 0.4, "en", "p", "srt")


def test_translations_take_no_language():
    assert parse_audio_text(form(model="whisper-1", language="fr"), TRANSLATE).language is None


@pytest.mark.parametrize(
    "fields, param",
    [({}, "model"), ({"model": "whisper-1", "temperature": "1.5"}, "temperature"),
     ({"model": "whisper-1", "temperature": "hot"}, "temperature"),
     ({"model": "whisper-1", "response_format": "xml"}, "response_format"),
     ({"model": "whisper-1", "response_format": "diarized_json"}, "response_format"),
     ({"model": "whisper-1", "language": "english please"}, "language"),
     ({"model": "whisper-1", "stream": "true"}, "stream"),
     ({"model": "whisper-1", "timestamp_granularities__": ["word", "segment"]}, "timestamp_granularities"),
     ({"model": "whisper-1", "include__": ["logprobs"]}, "include")],
)
def test_bad_audio_forms_name_the_parameter(fields, param):
    with pytest.raises(InvalidRequest) as caught:
        parse_audio_text(form(**fields), TRANSCRIBE)
    assert caught.value.param == param


def test_speech_defaults_and_custom_voice_ids():
    request = parse_speech({"model": "tts-1", "input": "Hi", "voice": {"id": "voice_123"}})
    assert (request.voice, request.response_format, request.speed) == ("voice_123", "mp3", 1.0)


@pytest.mark.parametrize(
    "body, param",
    [({"input": "x", "voice": "alloy"}, "model"), ({"model": "tts-1", "voice": "alloy"}, "input"),
     ({"model": "tts-1", "input": "x" * 4097, "voice": "alloy"}, "input"),
     ({"model": "tts-1", "input": "x"}, "voice"),
     ({"model": "tts-1", "input": "x", "voice": "alloy", "speed": 0.2}, "speed"),
     ({"model": "tts-1", "input": "x", "voice": "alloy", "speed": 4.5}, "speed"),
     ({"model": "tts-1", "input": "x", "voice": "alloy", "response_format": "ogg"}, "response_format"),
     ({"model": "tts-1", "input": "x", "voice": "alloy", "instructions": "whisper"}, "instructions"),
     ({"model": "tts-1", "input": "x", "voice": "alloy", "stream_format": "sse"}, "stream_format")],
)
def test_bad_speech_requests_name_the_parameter(body, param):
    with pytest.raises(InvalidRequest) as caught:
        parse_speech(body)
    assert caught.value.param == param
