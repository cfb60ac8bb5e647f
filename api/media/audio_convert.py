"""WAV to raw PCM as OpenAI's `pcm` speech format defines it: 24 kHz, mono, signed 16-bit LE; pure."""
from __future__ import annotations

import struct
import sys
from array import array

PCM_RATE = 24000


class NotConvertible(ValueError):
    """The WAV uses an encoding this converter does not read."""


def _chunks(data: bytes) -> tuple[tuple[int, int, int, int], bytes]:
    """((format tag, channels, rate, bits), sample bytes) of a RIFF/WAVE file."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise NotConvertible("not a WAV file")
    fmt, samples, position = None, None, 12
    while position + 8 <= len(data):
        kind, size = data[position:position + 4], int.from_bytes(data[position + 4:position + 8], "little")
        body = data[position + 8:position + 8 + size]
        if kind == b"fmt " and len(body) >= 16:
            tag, channels, rate, _byte_rate, _align, bits = struct.unpack_from("<HHIIHH", body)
            if tag == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the real tag follows
                tag = int.from_bytes(body[24:26], "little")
            fmt = (tag, channels, rate, bits)
        elif kind == b"data":
            samples = body  # may be shorter than `size` for a streamed WAV: use what is there
        position += 8 + size + (size & 1)
    if fmt is None or samples is None or not fmt[1] or not fmt[2]:
        raise NotConvertible("a WAV file without fmt or data")
    return fmt, samples


def _to_int16(tag: int, bits: int, raw: bytes) -> list[int]:
    if tag == 1 and bits == 16:
        values = array("h")
        values.frombytes(raw[: len(raw) // 2 * 2])
        if sys.byteorder == "big":
            values.byteswap()
        return values.tolist()
    if tag == 1 and bits == 8:
        return [(b - 128) << 8 for b in raw]
    if tag == 1 and bits == 24:
        return [int.from_bytes(raw[i + 1:i + 3], "little", signed=True) for i in range(0, len(raw) - 2, 3)]
    if tag == 1 and bits == 32:
        return [v >> 16 for v in struct.unpack(f"<{len(raw) // 4}i", raw[: len(raw) // 4 * 4])]
    if tag == 3 and bits == 32:
        floats = struct.unpack(f"<{len(raw) // 4}f", raw[: len(raw) // 4 * 4])
        return [max(-32768, min(32767, int(v * 32767))) for v in floats]
    raise NotConvertible(f"WAV encoding {tag} with {bits}-bit samples")


def _mono(samples: list[int], channels: int) -> list[int]:
    if channels == 1:
        return samples
    frames = len(samples) // channels
    return [sum(samples[i * channels:(i + 1) * channels]) // channels for i in range(frames)]


def _resample(samples: list[int], rate: int) -> list[int]:
    """Linear interpolation to PCM_RATE: plain, and good enough for speech."""
    if rate == PCM_RATE or not samples:
        return samples
    count = max(int(len(samples) * PCM_RATE / rate), 1)
    step, last = rate / PCM_RATE, len(samples) - 1
    out = []
    for i in range(count):
        position = i * step
        j = int(position)
        if j >= last:
            out.append(samples[last])
            continue
        frac = position - j
        out.append(int(samples[j] + (samples[j + 1] - samples[j]) * frac))
    return out


def wav_to_pcm(data: bytes) -> bytes:
    """Raw PCM (24 kHz, mono, s16le) from WAV bytes; NotConvertible if the WAV cannot be read."""
    (tag, channels, rate, bits), raw = _chunks(data)
    samples = _resample(_mono(_to_int16(tag, bits, raw), channels), rate)
    out = array("h", samples)
    if sys.byteorder == "big":
        out.byteswap()
    return out.tobytes()
