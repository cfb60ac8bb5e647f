"""Tiny but valid media files (PNG, MP3, WAV) for generated images and speech."""
from __future__ import annotations

import hashlib
import io
import struct
import wave
import zlib


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def solid_png(seed: str, size: int = 8) -> bytes:
    """A size x size RGB PNG of one colour derived from `seed` (so different prompts differ)."""
    red, green, blue = hashlib.sha256(seed.encode("utf-8")).digest()[:3]
    row = b"\x00" + bytes((red, green, blue)) * size  # filter byte 0, then RGB pixels
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(row * size)) + _png_chunk(b"IEND", b""))


def silent_mp3(frames: int = 20) -> bytes:
    """MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, mono: silent frames (~0.5 s for 20).

    Header FF FB 90 C0 = sync, MPEG-1, Layer III, no CRC, bitrate index 9 (128k), 44.1 kHz,
    no padding, mono. Frame length is 144 * 128000 / 44100 = 417 bytes; all-zero side info
    (17 bytes for mono) and main data decode as silence.
    """
    frame = b"\xff\xfb\x90\xc0" + b"\x00" * (417 - 4)
    return frame * frames


def silent_wav(seconds: float = 0.25, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * int(rate * seconds))
    return buffer.getvalue()
