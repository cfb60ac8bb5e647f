"""Transcription and translation: the upstream body per model, every transcript shape, every format."""
import json

import pytest

from api.request_schemas.media import TRANSCRIBE, TRANSLATE, AudioTextRequest
from api.translators.audio import build_body, read_transcript, render
from api.media.subtitles import Cue
from tests.openai_schema import validate

PATH = "audios/2026_01_01_00_00_00_000_audio-1.wav"


@pytest.mark.parametrize(
    "request_fields, body",
    [
        ({"task": TRANSCRIBE, "model": "whisper-1"},
         {"type": "SPEECH_TO_TEXT", "model": "whisper-1",
          "promptObject": {"audioUrl": PATH, "response_format": "json"}}),
        ({"task": TRANSCRIBE, "model": "whisper-1", "response_format": "srt", "language": "fr",
          "prompt": "Names: Zoë", "temperature": 0.3},
         {"type": "SPEECH_TO_TEXT", "model": "whisper-1",
          "promptObject": {"audioUrl": PATH, "response_format": "srt", "language": "fr",
                           "prompt": "Names: Zoë", "temperature": 0.3}}),
        ({"task": TRANSCRIBE, "model": "latest_long", "language": "en-US", "response_format": "vtt"},
         {"type": "SPEECH_TO_TEXT", "model": "latest_long",
          "promptObject": {"audioUrl": PATH, "language": "en-US"}}),
        ({"task": TRANSLATE, "model": "whisper-1", "response_format": "text", "temperature": 0.0},
         {"type": "AUDIO_TRANSLATOR", "model": "whisper-1", "conversationId": "AUDIO_TRANSLATOR",
          "promptObject": {"audioUrl": PATH, "response_format": "text", "temperature": 0.0}}),
        ({"task": TRANSLATE, "model": "gemini-2.5-flash"},
         {"type": "AUDIO_TRANSLATOR", "model": "gemini-2.5-flash", "conversationId": "AUDIO_TRANSLATOR",
          "promptObject": {"audioUrl": PATH, "targetLanguage": "English"}}),
    ],
)
def test_each_model_gets_the_fields_it_takes(request_fields, body):
    assert build_body(AudioTextRequest(**request_fields), PATH) == body


@pytest.mark.parametrize(
    "result, text, cues",
    [
        (["Hello world."], "Hello world.", None),
        (["1\n00:00:00,000 --> 00:00:01,000\nHello\n\n2\n00:00:01,000 --> 00:00:02,000\nworld.\n"],
         "Hello world.", [Cue(0, 1, "Hello"), Cue(1, 2, "world.")]),
        (["WEBVTT\n\n00:00.500 --> 00:01.500\nHi.\n"], "Hi.", [Cue(0.5, 1.5, "Hi.")]),
        ([json.dumps({"text": "Hi there."})], "Hi there.", None),
        ([{"text": " Hi. ", "segments": [{"start": 0, "end": 0.9, "text": " Hi."}]}], "Hi.", [Cue(0, 0.9, "Hi.")]),
        (["{not json, just text"], "{not json, just text", None),
    ],
)
def test_every_transcript_shape_is_read(result, text, cues):
    transcript = read_transcript(result)
    assert transcript.text == text and transcript.cues == cues


@pytest.mark.parametrize("result", [[], [None], [{"no": "text"}]])
def test_no_transcript_is_none(result):
    assert read_transcript(result) is None


def _render(result, response_format, task=TRANSCRIBE, duration=2.5, **fields):
    request = AudioTextRequest(task=task, model="whisper-1", response_format=response_format, **fields)
    return render(read_transcript(result), request, duration)


def test_plain_text_becomes_one_cue_spanning_the_real_audio():
    srt, content_type = _render(["Hello world."], "srt")
    assert srt == "1\n00:00:00,000 --> 00:00:02,500\nHello world.\n\n" and content_type.startswith("text/plain")
    vtt, content_type = _render(["Hello world."], "vtt")
    assert vtt == "WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello world.\n\n" and content_type.startswith("text/vtt")


def test_upstream_timings_are_kept_but_never_run_past_the_audio():
    srt = "1\n00:00:00,000 --> 00:00:01,000\nHello\n\n2\n00:00:01,000 --> 00:00:09,000\nworld.\n"
    body, _ = _render([srt], "verbose_json", language="de", temperature=0.2)
    validate(body, "CreateTranscriptionResponseVerboseJson")
    assert body["duration"] == 2.5 and body["language"] == "german" and body["task"] == "transcribe"
    assert [(s["start"], s["end"], s["text"]) for s in body["segments"]] == [(0, 1, "Hello"), (1, 2.5, "world.")]
    assert all(s["temperature"] == 0.2 and s["tokens"] == [] for s in body["segments"])
    assert body["usage"] == {"type": "duration", "seconds": 3}


def test_whisper_segment_details_from_upstream_are_kept():
    result = [{"text": "Hi.", "language": "english", "segments": [
        {"id": 0, "seek": 0, "start": 0.0, "end": 1.0, "text": "Hi.", "tokens": [50364, 2421],
         "temperature": 0.0, "avg_logprob": -0.3, "compression_ratio": 0.6, "no_speech_prob": 0.01}]}]
    body, _ = _render(result, "verbose_json")
    assert body["segments"][0]["avg_logprob"] == -0.3 and body["segments"][0]["tokens"] == [50364, 2421]
    assert body["language"] == "english"


@pytest.mark.parametrize(
    "task, response_format, schema",
    [(TRANSCRIBE, "json", "CreateTranscriptionResponseJson"),
     (TRANSCRIBE, "verbose_json", "CreateTranscriptionResponseVerboseJson"),
     (TRANSLATE, "json", "CreateTranslationResponseJson"),
     (TRANSLATE, "verbose_json", "CreateTranslationResponseVerboseJson")],
)
def test_json_formats_validate_against_openai_schemas(task, response_format, schema):
    body, content_type = _render(["Bonjour."], response_format, task=task)
    validate(body, schema)
    assert content_type == "application/json"
    if response_format == "verbose_json":
        assert body["language"] == ("english" if task == TRANSLATE else "unknown")


def test_text_format_is_the_transcript_and_a_newline():
    assert _render(["Hello."], "text", duration=None) == ("Hello.\n", "text/plain; charset=utf-8")
    assert _render(["Hello."], "json", duration=None)[0] == {"text": "Hello."}
