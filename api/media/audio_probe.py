"""Audio durations read from the bytes themselves (WAV, MP3, FLAC, OGG, MP4/M4A, WebM); pure.

Each reader returns seconds, or None when the file does not say (a FLAC without a sample
count, a fragmented MP4 without a duration, a truncated header): callers then report the
duration as unknown instead of inventing one.
"""
from __future__ import annotations

import io
import struct
import wave
from typing import Iterator

from api.media.mpeg_audio import mp3_duration, skip_id3v2
from api.media.webm_audio import webm_duration

# ---- WAV ---------------------------------------------------------------------------------------

def _riff_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(chunk id, data offset, declared size) of each RIFF chunk after the WAVE header."""
    position = 12
    while position + 8 <= len(data):
        kind, size = data[position:position + 4], int.from_bytes(data[position + 4:position + 8], "little")
        yield kind, position + 8, size
        position += 8 + size + (size & 1)


def wav_duration(data: bytes) -> float | None:
    if not (data[:4] == b"RIFF" and data[8:12] == b"WAVE"):
        return None
    try:
        with wave.open(io.BytesIO(data)) as reader:
            rate, frames = reader.getframerate(), reader.getnframes()
            block = reader.getnchannels() * reader.getsampwidth()
        available = _wav_data_size(data)
        if available is not None and block:
            frames = min(frames, available // block)  # a streamed WAV may claim more than it has
        return frames / rate if rate else None
    except (wave.Error, EOFError):
        pass
    # Formats `wave` refuses (float samples, WAVE_FORMAT_EXTENSIBLE before 3.12): fmt's byte rate.
    byte_rate = None
    for kind, offset, _size in _riff_chunks(data):
        if kind == b"fmt " and offset + 12 <= len(data):
            byte_rate = int.from_bytes(data[offset + 8:offset + 12], "little")
    size = _wav_data_size(data)
    return size / byte_rate if byte_rate and size is not None else None


def _wav_data_size(data: bytes) -> int | None:
    for kind, offset, size in _riff_chunks(data):
        if kind == b"data":
            return min(size, len(data) - offset)
    return None


# ---- FLAC --------------------------------------------------------------------------------------

def _streaminfo_duration(info: bytes) -> float | None:
    if len(info) < 18:
        return None
    packed = int.from_bytes(info[10:18], "big")
    rate, total = packed >> 44, packed & ((1 << 36) - 1)
    return total / rate if rate and total else None  # total 0 means "not recorded"


def flac_duration(data: bytes) -> float | None:
    start = skip_id3v2(data)
    if data[start:start + 4] != b"fLaC" or data[start + 4] & 0x7F != 0:
        return None  # STREAMINFO must be the first metadata block
    return _streaminfo_duration(data[start + 8:start + 8 + 34])


# ---- OGG (Vorbis, Opus, FLAC, Speex) ------------------------------------------------------------

def _ogg_page(data: bytes, offset: int) -> tuple[int, int, bytes] | None:
    """(granule position, serial, first packet bytes) of the page at `offset`."""
    if data[offset:offset + 4] != b"OggS" or offset + 27 > len(data):
        return None
    granule, serial = struct.unpack_from("<qI", data, offset + 6)
    segments = data[offset + 26]
    lacing = data[offset + 27:offset + 27 + segments]
    body = offset + 27 + segments
    first = 0
    for value in lacing:
        first += value
        if value < 255:
            break
    return granule, serial, data[body:body + first]


def ogg_codec(data: bytes) -> tuple[str, int, int] | None:
    """(codec, granule rate, pre-skip) from the first page, or None if not a known Ogg stream."""
    page = _ogg_page(data, 0)
    if page is None:
        return None
    packet = page[2]
    if packet.startswith(b"OpusHead") and len(packet) >= 12:
        return "opus", 48000, int.from_bytes(packet[10:12], "little")  # granules count 48 kHz
    if packet.startswith(b"\x01vorbis") and len(packet) >= 16:
        return "vorbis", int.from_bytes(packet[12:16], "little"), 0
    if packet.startswith(b"\x7fFLAC") and packet[9:13] == b"fLaC" and len(packet) >= 35:
        return "flac", int.from_bytes(packet[27:30], "big") >> 4, 0
    if packet.startswith(b"Speex   ") and len(packet) >= 40:
        return "speex", int.from_bytes(packet[36:40], "little"), 0
    return None


def ogg_duration(data: bytes) -> float | None:
    codec = ogg_codec(data)
    first = _ogg_page(data, 0)
    if codec is None or first is None or not codec[1]:
        return None
    _name, rate, pre_skip = codec
    serial = first[1]
    position = len(data)
    while True:  # the last page of this stream that ends a packet carries the final granule
        position = data.rfind(b"OggS", 0, position)
        if position < 0:
            return None
        page = _ogg_page(data, position)
        if page is not None and page[1] == serial and page[0] >= 0:
            return max(page[0] - pre_skip, 0) / rate


# ---- MP4 / M4A ---------------------------------------------------------------------------------

def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(box type, payload start, box end) of each ISO-BMFF box between `start` and `end`."""
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1 and position + 16 <= end:
            size, header = struct.unpack_from(">Q", data, position + 8)[0], 16
        elif size == 0:
            size = end - position
        if size < header:
            return
        yield kind, position + header, min(position + size, end)
        position += size


def mp4_duration(data: bytes) -> float | None:
    for kind, start, end in _boxes(data, 0, len(data)):
        if kind != b"moov":
            continue
        timescale, duration = 0, 0
        for child, c_start, c_end in _boxes(data, start, end):
            if child == b"mvhd" and c_end - c_start >= 32:
                if data[c_start] == 1:
                    timescale, duration = struct.unpack_from(">IQ", data, c_start + 20)
                else:
                    timescale, duration = struct.unpack_from(">II", data, c_start + 12)
                if duration in (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
                    duration = 0
            if child == b"mvex" and not duration:
                for grand, g_start, _g_end in _boxes(data, c_start, c_end):
                    if grand == b"mehd":  # fragmented files keep the total here
                        fmt = ">Q" if data[g_start] == 1 else ">I"
                        duration = struct.unpack_from(fmt, data, g_start + 4)[0]
        return duration / timescale if timescale and duration else None
    return None


# ---- dispatch ----------------------------------------------------------------------------------

_READERS = {
    "wav": wav_duration, "mp3": mp3_duration, "flac": flac_duration, "ogg": ogg_duration,
    "mp4": mp4_duration, "m4a": mp4_duration, "webm": webm_duration,
}


def duration_seconds(data: bytes, audio_format: str) -> float | None:
    """Seconds of audio in `data` of `audio_format` (as named by media_types.sniff_audio)."""
    reader = _READERS.get(audio_format)
    if reader is None:
        return None
    try:
        seconds = reader(data)
    except (struct.error, IndexError, ValueError, OverflowError):
        return None  # a damaged header is an unknown duration, never a crash
    return round(seconds, 3) if seconds and seconds > 0 else None
