"""Small but valid media files built byte by byte (no product code), for unit and e2e tests."""
from __future__ import annotations

import io
import struct
import wave
import zlib


def wav(seconds: float = 1.5, rate: int = 16000, channels: int = 1, width: int = 2,
        tone: bool = False) -> bytes:
    buffer = io.BytesIO()
    frames = int(rate * seconds)
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        if tone:  # a square wave, so conversions have something to preserve
            sample = b"\x00\x40" if width == 2 else b"\xc0"
            low = b"\x00\xc0" if width == 2 else b"\x40"
            out.writeframes(b"".join((sample if (i // 20) % 2 else low) * channels for i in range(frames)))
        else:
            out.writeframes(b"\x00" * width * channels * frames)
    return buffer.getvalue()


def float_wav(seconds: float, rate: int = 8000) -> bytes:
    """IEEE-float WAV (format tag 3), which the `wave` module refuses to read."""
    data = struct.pack(f"<{int(rate * seconds)}f", *([0.5] * int(rate * seconds)))
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def mp3(frames: int = 20) -> bytes:
    """MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, mono: 417-byte frames of 1152 samples."""
    return (b"\xff\xfb\x90\xc0" + b"\x00" * 413) * frames


def mpeg2_mp3(frames: int) -> bytes:
    """MPEG-2 Layer III, 64 kbit/s, 22.05 kHz, mono: 208-byte frames of 576 samples."""
    return (b"\xff\xf3\x80\xc0" + b"\x00" * 204) * frames


def xing_mp3(declared_frames: int, present_frames: int = 3) -> bytes:
    """An MP3 whose first frame is a Xing header declaring `declared_frames` frames."""
    first = bytearray(b"\xff\xfb\x90\xc0" + b"\x00" * 413)
    first[21:33] = b"Xing" + struct.pack(">II", 1, declared_frames)  # after 17 bytes of side info
    return bytes(first) + mp3(present_frames)


def id3(payload_size: int = 300) -> bytes:
    size = payload_size
    syncsafe = bytes(((size >> shift) & 0x7F) for shift in (21, 14, 7, 0))
    return b"ID3\x04\x00\x00" + syncsafe + b"\x00" * payload_size


def flac(seconds: float, rate: int = 44100, total: int | None = None) -> bytes:
    samples = int(rate * seconds) if total is None else total
    packed = (rate << 44) | (0 << 41) | (15 << 36) | samples  # mono, 16 bits per sample
    info = struct.pack(">HH", 4096, 4096) + b"\x00" * 6 + packed.to_bytes(8, "big") + b"\x00" * 16
    return b"fLaC" + bytes([0x80]) + len(info).to_bytes(3, "big") + info + b"\xff\xf8" + b"\x00" * 30


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def ogg_page(packet: bytes, granule: int, sequence: int, serial: int = 7, flags: int = 0) -> bytes:
    lacing = bytes([255] * (len(packet) // 255) + [len(packet) % 255])
    header = b"OggS" + struct.pack("<BBqIII", 0, flags, granule, serial, sequence, 0)
    page = header + bytes([len(lacing)]) + lacing + packet
    return page[:22] + struct.pack("<I", _ogg_crc(page)) + page[26:]


def ogg_opus(seconds: float, pre_skip: int = 312) -> bytes:
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, pre_skip, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 4) + b"test" + struct.pack("<I", 0)
    audio_end = pre_skip + int(48000 * seconds)
    return (ogg_page(head, 0, 0, flags=2) + ogg_page(tags, 0, 1)
            + ogg_page(b"\xf8\xff\xfe", audio_end // 2, 2)
            + ogg_page(b"\xf8\xff\xfe", audio_end, 3, flags=4))


def ogg_vorbis(seconds: float, rate: int = 44100) -> bytes:
    ident = b"\x01vorbis" + struct.pack("<IBIiiiBB", 0, 1, rate, 0, 128000, 0, 0xB8, 1)
    return ogg_page(ident, 0, 0, flags=2) + ogg_page(b"\x00" * 40, int(rate * seconds), 1, flags=4)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def m4a(seconds: float, timescale: int = 1000, moov_last: bool = True, brand: bytes = b"M4A ") -> bytes:
    mvhd = _box(b"mvhd", b"\x00\x00\x00\x00" + struct.pack(">IIII", 0, 0, timescale,
                                                          int(seconds * timescale)) + b"\x00" * 80)
    moov = _box(b"moov", mvhd)
    ftyp = _box(b"ftyp", brand + b"\x00\x00\x02\x00" + brand + b"isom")
    mdat = _box(b"mdat", b"\x00" * 64)
    return ftyp + (mdat + moov if moov_last else moov + mdat)


def _ebml_size(size: int) -> bytes:
    return b"\x01" + size.to_bytes(7, "big")


def _element(ident: int, payload: bytes) -> bytes:
    return ident.to_bytes((ident.bit_length() + 7) // 8, "big") + _ebml_size(len(payload)) + payload


def webm(duration_ms: float | None = 1234.0, blocks: tuple[tuple[int, int], ...] = ()) -> bytes:
    """EBML header (DocType webm) and a Segment of unknown size with Info and clusters.

    `blocks`: (cluster timecode ms, block offset ms) pairs, one SimpleBlock each.
    """
    header = _element(0x1A45DFA3, _element(0x4282, b"webm") + _element(0x4287, b"\x04"))
    info = _element(0x2AD7B1, (1_000_000).to_bytes(3, "big"))
    if duration_ms is not None:
        info += _element(0x4489, struct.pack(">d", duration_ms))
    body = _element(0x1549A966, info)
    for cluster_time, offset in blocks:
        block = b"\x81" + struct.pack(">hB", offset, 0x80) + b"\x00" * 8
        body += _element(0x1F43B675, _element(0xE7, cluster_time.to_bytes(2, "big"))
                         + _element(0xA3, block))
    segment = b"\x18\x53\x80\x67" + b"\x01\xff\xff\xff\xff\xff\xff\xff" + body
    return header + segment


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
