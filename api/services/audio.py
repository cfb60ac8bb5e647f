"""One transcription or translation: file checks, asset upload, the 1min.ai call, honest timings."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from asgiref.sync import sync_to_async

from api.media import audio_probe
from api.upstream import onemin_client

from core import token_counting
from core.call_context import CallContext
from core.errors import InvalidRequest, UpstreamError
from core.upstream_key import UpstreamKey
from api.media.image_inputs import asset_path
from api.media.media_types import sniff_audio
from api.model_registry import resolve_model
from api.request_schemas.media import TRANSCRIBE, AudioTextRequest
from api.services.features import call_feature
from api.translators import audio as tr
from api.translators import features

# Containers OpenAI's audio endpoints take (mpeg and mpga are MP3 under other names).
ACCEPTED_FORMATS = frozenset({"mp3", "mp4", "m4a", "wav", "webm", "ogg", "flac"})
ACCEPTED_NAMES = "flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, wav, webm"


@dataclass(frozen=True)
class AudioFile:
    name: str
    data: bytes


@dataclass(frozen=True)
class Rendered:
    body: dict[str, Any] | str
    content_type: str


def _check_file(upload: AudioFile) -> tuple[Any, str]:
    if not upload.data:
        raise InvalidRequest("The uploaded file is empty.", param="file", code="invalid_file")
    kind = sniff_audio(upload.data)
    if kind is None or kind.format not in ACCEPTED_FORMATS:
        raise InvalidRequest(
            f"The file {upload.name!r} is not audio in a supported format ({ACCEPTED_NAMES}); "
            "its contents were checked, not only its name.",
            param="file",
            code="invalid_file_format",
        )
    return kind, kind.format


async def run(request: AudioTextRequest, upload: AudioFile, upstream_key: UpstreamKey,
              call: CallContext) -> Rendered:
    call.model = request.model  # labels a refusal too
    resolved = await resolve_model(request.model, tr.FEATURE[request.task])
    request = replace(request, model=resolved.target)
    call.model = request.model
    if request.task == TRANSCRIBE and tr.needs_language(request.model) and not request.language:
        raise InvalidRequest(
            f"{request.model} needs `language`, the spoken language as a BCP-47 code "
            "such as en-US.",
            param="language",
            code="missing_required_parameter",
        )
    kind, audio_format = _check_file(upload)
    # Reading a duration can scan every frame of a 25 MB file: not on the event loop.
    duration = await sync_to_async(audio_probe.duration_seconds, thread_sensitive=False)(
        upload.data, audio_format)
    if duration is None and request.response_format in tr.TIMED_FORMATS:
        # Timings without the audio's length would be invented; refuse before spending credits.
        raise InvalidRequest(
            f"The length of this {audio_format} file cannot be read from it, so "
            f"`{request.response_format}` timings cannot be given. Ask for `json` or `text`, or "
            "send a file with complete headers.",
            param="response_format",
            code="audio_duration_unknown",
        )
    uploaded = await onemin_client.upload_asset(
        upstream_key, f"audio-{uuid.uuid4().hex}.{audio_format}", upload.data, kind.mime)
    record = await call_feature(upstream_key, tr.build_body(request, asset_path(uploaded)), tr.FIELD_PARAMS)
    transcript = tr.read_transcript(features.results(record))
    if transcript is None:
        raise UpstreamError("1min.ai reported success but returned no transcript.")
    call.note_usage(await token_counting.count_text_async(request.prompt or ""),
                    await token_counting.count_text_async(transcript.text))
    body, content_type = tr.render(transcript, request, duration)
    return Rendered(body, content_type)
