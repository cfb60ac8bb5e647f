"""One speech synthesis: the TEXT_TO_SPEECH call, then the generated audio streamed back as it arrives."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import AsyncIterator

from django.conf import settings

from api import cpu_pool
from api.upstream import onemin_client
from api.upstream.upstream_stream import UpstreamStream

from core import token_counting
from api.media.audio_convert import NotConvertible, wav_to_pcm
from core.call_context import CallContext
from core.errors import UpstreamError
from core.upstream_key import UpstreamKey
from api.media.media_types import sniff_audio
from api.model_registry import resolve_model
from api.request_schemas.media import SpeechRequest
from api.services.features import call_feature
from api.translators import features
from api.translators import speech as tr
from api.translators.models import TEXT_TO_SPEECH

# Enough bytes to see past an ID3 tag to the first audio frame; most files need a few dozen.
_SNIFF_LIMIT = 64 * 1024


@dataclass
class SpeechAudio:
    content_type: str
    chunks: AsyncIterator[bytes] | None = None  # streamed as downloaded...
    body: bytes | None = None  # ...or whole, when the relay had to convert it
    headers: dict[str, str] = field(default_factory=dict)


async def _open_first(urls: list[str]) -> UpstreamStream:
    """The first download that starts: the signed temporaryUrl, then the CDN copy."""
    failure: UpstreamError | None = None
    for url in urls:
        try:
            return await onemin_client.open_asset(url)
        except UpstreamError as error:
            failure = error
    raise failure or UpstreamError("1min.ai returned no audio for this request.")


async def _relay(head: bytes, rest: AsyncIterator[bytes],
                 download: UpstreamStream) -> AsyncIterator[bytes]:
    try:
        if head:
            yield head
        async for chunk in rest:
            yield chunk
    finally:
        await download.aclose()


async def synthesize(request: SpeechRequest, upstream_key: UpstreamKey, call: CallContext) -> SpeechAudio:
    call.model = request.model  # labels a refusal too
    resolved = await resolve_model(request.model, TEXT_TO_SPEECH)
    request = replace(request, model=resolved.target)
    call.model = request.model
    record = await call_feature(upstream_key, tr.build_body(request), tr.FIELD_PARAMS)
    paths = features.result_paths(record)
    urls = [features.temporary_url(record)] + [
        features.asset_url(p, settings.ONE_MIN_ASSET_CDN_URL) for p in paths[:1]]
    download = await _open_first([u for u in urls if u])
    rest = download.chunks()
    head = b""
    try:
        # Look at the first bytes before answering, so the content type is what the bytes are.
        while len(head) < _SNIFF_LIMIT and sniff_audio(head) is None:
            chunk = await anext(rest, None)
            if chunk is None:
                break
            head += chunk
        delivery = tr.delivery(request.response_format, sniff_audio(head))
        call.note_usage(await token_counting.count_text_async(request.input), 0)
        headers = {"X-Audio-Format": delivery.actual_format or request.response_format}
        if delivery.wav_to_pcm:
            return await _as_pcm(head, rest, download, headers)
    except BaseException:
        await download.aclose()
        raise
    length = download.headers.get("content-length")
    if length and download.headers.get("content-encoding", "identity") == "identity":
        headers["Content-Length"] = length
    return SpeechAudio(delivery.content_type, chunks=_relay(head, rest, download), headers=headers)


async def _as_pcm(head: bytes, rest: AsyncIterator[bytes], download: UpstreamStream,
                  headers: dict[str, str]) -> SpeechAudio:
    """OpenAI's `pcm` is headerless 24 kHz mono s16le: unwrap (and resample) the WAV we asked for."""
    data = bytearray(head)
    async for chunk in rest:
        data += chunk
        if len(data) > settings.ASSET_FETCH_MAX_BYTES:
            raise UpstreamError("The generated audio is larger than the relay accepts.")
    await download.aclose()
    try:
        pcm = await cpu_pool.run_cpu(wav_to_pcm, bytes(data))  # seconds of pure-Python CPU
    except NotConvertible:
        # Better the WAV itself, labelled as such, than bytes that only claim to be PCM.
        return SpeechAudio("audio/wav", body=bytes(data), headers={**headers, "X-Audio-Format": "wav"})
    return SpeechAudio(tr.CONTENT_TYPES["pcm"], body=pcm, headers=headers)
