"""OpenAI transcription/translation to 1min.ai SPEECH_TO_TEXT/AUDIO_TRANSLATOR and back; pure.

1min.ai returns the transcript in `resultObject[0]`: plain text, or (unverified upstream) SRT,
WebVTT or Whisper JSON. Every variant is read into one Transcript, then rendered in the
format the client asked for, with timings bounded by the real length of the audio.
"""
from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass
from typing import Any

from api.media import subtitles
from api.request_schemas.media import TRANSCRIBE, TRANSLATE, AudioTextRequest
from api.media.subtitles import Cue
from api.translators.features import FeatureBody

FEATURE = {TRANSCRIBE: "SPEECH_TO_TEXT", TRANSLATE: "AUDIO_TRANSLATOR"}
TIMED_FORMATS = frozenset({"srt", "vtt", "verbose_json"})
# Google Cloud Speech models on 1min.ai: `language` (BCP-47) is required, nothing else is taken.
GOOGLE_SPEECH = frozenset({"latest_long", "latest_short", "phone_call", "telephony",
                           "telephony_short", "medical_dictation", "medical_conversation"})
FIELD_PARAMS = {"audioUrl": "file", "language": "language", "prompt": "prompt",
                "temperature": "temperature", "response_format": "response_format",
                "targetLanguage": "model", "originalLanguage": "model"}
CONTENT_TYPES = {"json": "application/json", "verbose_json": "application/json",
                 "text": "text/plain; charset=utf-8", "srt": "text/plain; charset=utf-8",
                 "vtt": "text/vtt; charset=utf-8"}

# Whisper reports languages by name; clients send ISO-639-1 codes (or BCP-47 tags for Google).
WHISPER_LANGUAGES = dict(pair.split(":") for pair in (
    "en:english zh:chinese de:german es:spanish ru:russian ko:korean fr:french ja:japanese "
    "pt:portuguese tr:turkish pl:polish ca:catalan nl:dutch ar:arabic sv:swedish it:italian "
    "id:indonesian hi:hindi fi:finnish vi:vietnamese he:hebrew uk:ukrainian el:greek ms:malay "
    "cs:czech ro:romanian da:danish hu:hungarian ta:tamil no:norwegian th:thai ur:urdu "
    "hr:croatian bg:bulgarian lt:lithuanian la:latin mi:maori ml:malayalam cy:welsh sk:slovak "
    "te:telugu fa:persian lv:latvian bn:bengali sr:serbian az:azerbaijani sl:slovenian "
    "kn:kannada et:estonian mk:macedonian br:breton eu:basque is:icelandic hy:armenian "
    "ne:nepali mn:mongolian bs:bosnian kk:kazakh sq:albanian sw:swahili gl:galician mr:marathi "
    "pa:punjabi si:sinhala km:khmer sn:shona yo:yoruba so:somali af:afrikaans oc:occitan "
    "ka:georgian be:belarusian tg:tajik sd:sindhi gu:gujarati am:amharic yi:yiddish lo:lao "
    "uz:uzbek fo:faroese ht:haitian_creole ps:pashto tk:turkmen nn:nynorsk mt:maltese "
    "sa:sanskrit lb:luxembourgish my:myanmar bo:tibetan tl:tagalog mg:malagasy as:assamese "
    "tt:tatar haw:hawaiian ln:lingala ha:hausa ba:bashkir jw:javanese su:sundanese "
    "yue:cantonese").split())


@dataclass
class Transcript:
    text: str
    cues: list[Cue] | None = None  # timings the upstream gave, if any
    language: str | None = None
    segments: list[dict[str, Any]] | None = None  # Whisper verbose segments, kept as given


def needs_language(model: str) -> bool:
    return model in GOOGLE_SPEECH


def build_body(request: AudioTextRequest, audio_path: str) -> FeatureBody:
    prompt: dict[str, Any] = {"audioUrl": audio_path}
    body: FeatureBody = {"type": FEATURE[request.task], "model": request.model}
    if request.task == TRANSCRIBE and needs_language(request.model):
        prompt["language"] = request.language
    elif request.task == TRANSLATE and request.model.startswith("gemini"):
        prompt["targetLanguage"] = "English"  # OpenAI's translations always produce English
    else:
        # Whisper's fields; the format is passed on so timings come back when upstream has them.
        prompt["response_format"] = request.response_format
        for name in ("language", "prompt", "temperature"):
            value = getattr(request, name)
            if value is not None and not (name == "language" and request.task == TRANSLATE):
                prompt[name] = value
    if request.task == TRANSLATE:
        body["conversationId"] = FEATURE[TRANSLATE]  # the documented value (contract §7)
    body["promptObject"] = prompt
    return body


def read_transcript(results: list[Any]) -> Transcript | None:
    """The transcript in `resultObject`, whichever shape the upstream chose; None if empty."""
    if not results:
        return None
    value = results[0]
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if isinstance(value, dict):
        return _from_json(value)
    if not isinstance(value, str):
        return None
    cues = subtitles.parse_cues(value)
    if cues:
        return Transcript(subtitles.text_of(cues), cues=cues)
    return Transcript(value.strip())


def _from_json(value: dict[str, Any]) -> Transcript | None:
    raw = value.get("segments")
    segments = [s for s in raw if isinstance(s, dict) and _is_timed(s)] if isinstance(raw, list) else []
    cues = [Cue(float(s["start"]), float(s["end"]), str(s.get("text") or "").strip()) for s in segments]
    text = value.get("text")
    if not isinstance(text, str):
        if not cues:
            return None
        text = subtitles.text_of(cues)
    language = value.get("language") if isinstance(value.get("language"), str) else None
    return Transcript(text.strip(), cues=cues or None, language=language, segments=segments or None)


def _is_timed(segment: dict[str, Any]) -> bool:
    return all(isinstance(segment.get(k), (int, float)) and not isinstance(segment.get(k), bool)
               for k in ("start", "end"))


def language_name(transcript: Transcript, request: AudioTextRequest) -> str:
    if request.task == TRANSLATE:
        return "english"
    named = transcript.language or request.language
    if not named:
        return "unknown"  # the upstream does not say and the client did not either
    code = named.replace("_", "-").split("-")[0].lower()
    return WHISPER_LANGUAGES.get(code, named.lower()).replace("_", " ")


def _cues(transcript: Transcript, duration: float) -> list[Cue]:
    if transcript.cues:
        return subtitles.fit(transcript.cues, duration)
    return subtitles.whole(transcript.text, duration)


def _compression_ratio(text: str) -> float:
    raw = text.encode("utf-8")
    return round(len(raw) / len(zlib.compress(raw)), 3) if raw else 0.0


def _segment(index: int, cue: Cue, given: dict[str, Any] | None, temperature: float) -> dict[str, Any]:
    given = given or {}

    def number(name: str, default: float) -> float:
        value = given.get(name)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default

    tokens = given.get("tokens")
    return {
        "id": index,
        "seek": int(given["seek"]) if isinstance(given.get("seek"), int) else int(cue.start * 100),
        "start": round(cue.start, 3),
        "end": round(cue.end, 3),
        "text": cue.text,
        # 1min.ai reports no token ids or probabilities; these say "not measured", never a guess.
        "tokens": [t for t in tokens if isinstance(t, int)] if isinstance(tokens, list) else [],
        "temperature": number("temperature", temperature),
        "avg_logprob": number("avg_logprob", 0.0),
        "compression_ratio": number("compression_ratio", _compression_ratio(cue.text)),
        "no_speech_prob": number("no_speech_prob", 0.0),
    }


def render(transcript: Transcript, request: AudioTextRequest,
           duration: float | None) -> tuple[dict[str, Any] | str, str]:
    """(body, content type) in the requested format. Timed formats need the real `duration`."""
    fmt = request.response_format
    content_type = CONTENT_TYPES[fmt]
    if fmt == "text":
        return transcript.text + "\n", content_type
    usage = {"type": "duration", "seconds": math.ceil(duration)} if duration else None
    if fmt == "json":
        body: dict[str, Any] = {"text": transcript.text}
        if usage and request.task == TRANSCRIBE:
            body["usage"] = usage
        return body, content_type
    assert duration is not None, "timed formats need the audio's duration"
    cues = _cues(transcript, duration)
    if fmt == "srt":
        return subtitles.render_srt(cues), content_type
    if fmt == "vtt":
        return subtitles.render_vtt(cues), content_type
    given = transcript.segments if transcript.cues and transcript.segments else None
    temperature = request.temperature or 0.0
    verbose: dict[str, Any] = {
        "task": request.task,
        "language": language_name(transcript, request),
        "duration": round(duration, 3),
        "text": transcript.text,
        "segments": [_segment(i, cue, given[i] if given and i < len(given) else None, temperature)
                     for i, cue in enumerate(cues)],
    }
    if usage and request.task == TRANSCRIBE:
        verbose["usage"] = usage
    return verbose, content_type
