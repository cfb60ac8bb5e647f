"""WebM/Matroska (EBML) doctype and duration, from Info/Duration or the last block; pure."""
from __future__ import annotations

import struct
from typing import Iterator

_SEGMENT, _INFO, _CLUSTER = 0x18538067, 0x1549A966, 0x1F43B675
_TIMECODE_SCALE, _DURATION, _DOCTYPE = 0x2AD7B1, 0x4489, 0x4282
_CLUSTER_TIMECODE, _SIMPLE_BLOCK, _BLOCK_GROUP, _BLOCK, _BLOCK_DURATION = 0xE7, 0xA3, 0xA0, 0xA1, 0x9B
_LEVEL1 = {_INFO, _CLUSTER, 0x1C53BB6B, 0x1654AE6B, 0x114D9B74, 0x1254C367, 0x1941A469, 0x1043A770}


def _vint(data: bytes, position: int, keep_marker: bool) -> tuple[int, int, bool] | None:
    """(value, length, all-ones) of the EBML variable-length integer at `position`."""
    if position >= len(data) or data[position] == 0:
        return None
    first = data[position]
    length = 9 - first.bit_length()
    if position + length > len(data):
        return None
    value = first if keep_marker else first & ((1 << (8 - length)) - 1)
    for byte in data[position + 1:position + length]:
        value = (value << 8) | byte
    unknown = not keep_marker and value == (1 << (7 * length)) - 1
    return value, length, unknown


def _header(data: bytes, position: int) -> tuple[int, int, int, bool] | None:
    """(id, body start, declared size, size unknown) of the element at `position`."""
    ident = _vint(data, position, keep_marker=True)
    if ident is None:
        return None
    size = _vint(data, position + ident[1], keep_marker=False)
    if size is None:
        return None
    return ident[0], position + ident[1] + size[1], size[0], size[2]


def _elements(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(id, body start, body end) of each child element between `start` and `end`."""
    position = start
    while position < end:
        header = _header(data, position)
        if header is None:
            return
        ident, body, size, unknown = header
        if unknown:
            # Live recordings leave sizes open: a cluster ends where the next level-1 element
            # begins; anything else runs to its parent's end.
            stop = _open_cluster_end(data, body, end) if ident == _CLUSTER else end
        else:
            stop = min(body + size, end)
        yield ident, body, stop
        position = stop


def _open_cluster_end(data: bytes, start: int, end: int) -> int:
    position = start
    while position < end:
        header = _header(data, position)
        if header is None or header[0] in _LEVEL1:
            return position
        position = header[1] + (0 if header[3] else header[2])
    return end


def _uint(raw: bytes) -> int:
    return int.from_bytes(raw, "big") if raw else 0


def webm_doctype(data: bytes) -> str | None:
    """The EBML header's DocType (`webm`, `matroska`), or None if `data` is not EBML."""
    for ident, start, end in _elements(data, 0, min(len(data), 4096)):
        if ident != 0x1A45DFA3:
            return None
        for child, c_start, c_end in _elements(data, start, end):
            if child == _DOCTYPE:
                return data[c_start:c_end].rstrip(b"\x00").decode("ascii", "replace")
        return None
    return None


def webm_duration(data: bytes) -> float | None:
    scale, declared, last_block = 1_000_000, None, None
    for ident, start, end in _elements(data, 0, len(data)):
        if ident != _SEGMENT:
            continue
        for child, c_start, c_end in _elements(data, start, end):
            if child == _INFO:
                for item, i_start, i_end in _elements(data, c_start, c_end):
                    raw = data[i_start:i_end]
                    if item == _TIMECODE_SCALE:
                        scale = _uint(raw) or scale
                    elif item == _DURATION and len(raw) in (4, 8):
                        declared = struct.unpack(">f" if len(raw) == 4 else ">d", raw)[0]
            elif child == _CLUSTER and not declared:
                end_time = _cluster_last_time(data, c_start, c_end)
                if end_time is not None:
                    last_block = max(last_block or 0, end_time)
        break
    if declared:
        return declared * scale / 1e9
    # Recorders (MediaRecorder) often write no Duration: the last block's time, within a frame.
    return last_block * scale / 1e9 if last_block else None


def _cluster_last_time(data: bytes, start: int, end: int) -> int | None:
    base, latest = 0, None
    for ident, b_start, b_end in _elements(data, start, end):
        if ident == _CLUSTER_TIMECODE:
            base = _uint(data[b_start:b_end])
        elif ident == _SIMPLE_BLOCK:
            latest = max(latest or 0, base + _block_offset(data, b_start))
        elif ident == _BLOCK_GROUP:
            block_time, length = None, 0
            for part, p_start, p_end in _elements(data, b_start, b_end):
                if part == _BLOCK:
                    block_time = base + _block_offset(data, p_start)
                elif part == _BLOCK_DURATION:
                    length = _uint(data[p_start:p_end])
            if block_time is not None:
                latest = max(latest or 0, block_time + length)
    return latest


def _block_offset(data: bytes, position: int) -> int:
    """A block's time relative to its cluster: a signed 16-bit value after the track number."""
    track = _vint(data, position, keep_marker=False)
    if track is None or position + track[1] + 2 > len(data):
        return 0
    return struct.unpack_from(">h", data, position + track[1])[0]
