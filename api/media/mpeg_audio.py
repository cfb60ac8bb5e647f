"""MPEG audio (MP3/MP2/MP1) frame headers, ID3v2 tags and durations from frames; pure."""
from __future__ import annotations

from dataclasses import dataclass

_BITRATES = {  # kbit/s by (MPEG-1?, layer), index 1..14
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True)
class MpegFrame:
    version: int  # 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5 (the header's own bit values)
    layer: int  # 1, 2 or 3
    sample_rate: int
    length: int  # bytes, header included
    samples: int  # PCM samples per channel in this frame
    mono: bool
    crc: bool


def mpeg_frame(header: bytes) -> MpegFrame | None:
    """The frame a 4-byte MPEG audio header announces, or None if it is not a valid header."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version, layer_bits = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    bitrate_index, rate_index = header[2] >> 4, (header[2] >> 2) & 3
    if version == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved values; free-format bitrate cannot be sized from the header
    layer = 4 - layer_bits
    mpeg1 = version == 3
    bitrate = _BITRATES[(mpeg1, layer)][bitrate_index - 1] * 1000
    sample_rate = _SAMPLE_RATES[version][rate_index]
    padding = (header[2] >> 1) & 1
    if layer == 1:
        length, samples = (12 * bitrate // sample_rate + padding) * 4, 384
    elif layer == 2 or mpeg1:
        length, samples = 144 * bitrate // sample_rate + padding, 1152
    else:
        length, samples = 72 * bitrate // sample_rate + padding, 576
    return MpegFrame(version, layer, sample_rate, length, samples, header[3] >> 6 == 3,
                     not header[1] & 1)


def skip_id3v2(data: bytes, offset: int = 0) -> int:
    """Offset of the first byte after any ID3v2 tags at `offset`."""
    while data[offset:offset + 3] == b"ID3" and len(data) >= offset + 10:
        size = 0
        for byte in data[offset + 6:offset + 10]:
            size = (size << 7) | (byte & 0x7F)  # "syncsafe" integer: 7 bits per byte
        footer = 10 if data[offset + 5] & 0x10 else 0
        offset += 10 + size + footer
    return offset


def mpeg_start(data: bytes) -> int | None:
    """Offset of the first frame when `data` opens (after ID3v2 tags) with MPEG audio frames."""
    start = skip_id3v2(data)
    first = mpeg_frame(data[start:start + 4])
    if first is None:
        return None
    following = start + first.length
    if following + 4 <= len(data):
        second = mpeg_frame(data[following:following + 4])
        # One header can happen by chance; two in a row with the same layout cannot.
        if second is None or (second.version, second.layer, second.sample_rate) != (
                first.version, first.layer, first.sample_rate):
            return None
    return start


def _xing_frames(data: bytes, start: int, frame: MpegFrame) -> int | None:
    """Frame count from a Xing/Info or VBRI header in the first frame (encoders write one)."""
    side = (32 if not frame.mono else 17) if frame.version == 3 else (17 if not frame.mono else 9)
    xing = start + 4 + (2 if frame.crc else 0) + side
    if data[xing:xing + 4] in (b"Xing", b"Info"):
        flags = int.from_bytes(data[xing + 4:xing + 8], "big")
        if flags & 1 and len(data) >= xing + 12:
            return int.from_bytes(data[xing + 8:xing + 12], "big")
    vbri = start + 36
    if data[vbri:vbri + 4] == b"VBRI" and len(data) >= vbri + 18:
        return int.from_bytes(data[vbri + 14:vbri + 18], "big")
    return None


def mp3_duration(data: bytes) -> float | None:
    start = mpeg_start(data)
    if start is None:
        return None
    first = mpeg_frame(data[start:start + 4])
    assert first is not None
    frames = _xing_frames(data, start, first)
    if frames:
        return frames * first.samples / first.sample_rate
    samples, position = 0, start
    while position + 4 <= len(data):
        frame = mpeg_frame(data[position:position + 4])
        if frame is None or frame.sample_rate != first.sample_rate:
            break  # an ID3v1/APE tag or junk at the end
        if position + frame.length > len(data):
            break  # a truncated last frame holds no whole frame of audio
        samples += frame.samples
        position += frame.length
    return samples / first.sample_rate if samples else None

