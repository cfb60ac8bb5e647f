"""What a file is, judged from its bytes (not its name), and the extension 1min.ai expects for it."""
from __future__ import annotations

from dataclasses import dataclass

from api.media import audio_probe
from api.media.mpeg_audio import mpeg_start, skip_id3v2
from api.media.webm_audio import webm_doctype

_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
)


def sniff_image(data: bytes) -> tuple[str, str] | None:
    """(MIME type, extension) of a PNG, JPEG, GIF or WebP image, else None."""
    for signature, mime, ext in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return mime, ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


@dataclass(frozen=True)
class AudioType:
    format: str  # mp3, mp4, m4a, wav, webm, ogg, flac, aac: also the upload's file extension
    mime: str
    codec: str | None = None  # inside Ogg: opus, vorbis, flac, speex


AUDIO_MIME = {
    "mp3": "audio/mpeg", "mp4": "audio/mp4", "m4a": "audio/mp4", "wav": "audio/wav",
    "webm": "audio/webm", "ogg": "audio/ogg", "flac": "audio/flac", "aac": "audio/aac",
}
# Major brands that mark an MPEG-4 file as audio-only (iTunes audio, audiobooks, protected).
_M4A_BRANDS = {b"M4A ", b"M4B ", b"M4P "}


def sniff_audio(data: bytes) -> AudioType | None:
    """What audio container `data` holds, from its magic numbers; None if none we know."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return AudioType("wav", AUDIO_MIME["wav"])
    if data[:4] == b"OggS":
        codec = audio_probe.ogg_codec(data)
        return AudioType("ogg", AUDIO_MIME["ogg"], codec[0] if codec else None)
    if data[4:8] == b"ftyp":
        kind = "m4a" if data[8:12] in _M4A_BRANDS else "mp4"
        return AudioType(kind, AUDIO_MIME[kind])
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return AudioType("webm", AUDIO_MIME["webm"]) if webm_doctype(data) == "webm" else None
    start = skip_id3v2(data)
    if data[start:start + 4] == b"fLaC":
        return AudioType("flac", AUDIO_MIME["flac"])
    if mpeg_start(data) is not None:
        return AudioType("mp3", AUDIO_MIME["mp3"])
    # ADTS AAC: 12-bit sync then layer 00, which MPEG audio reserves, so no overlap with MP3.
    if len(data) >= start + 7 and data[start] == 0xFF and data[start + 1] & 0xF6 == 0xF0:
        return AudioType("aac", AUDIO_MIME["aac"])
    return None
