"""JSON of large documents (an 18 MB prompt, 1min.ai's echo of it): decoded and encoded in pieces on
a worker thread, so the event loop keeps answering while it runs.

orjson holds the GIL for a whole call: 19 MB took 130 ms to decode and as long to encode, a stall of
the event loop even when the call runs on another thread. Here the long strings of a large document
(where its size is) go through orjson a piece at a time, and between two pieces the loop's thread
gets the GIL back (CPython hands it over every 5 ms to a thread that asks). Small documents take the
plain orjson call, inline.
"""
from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import orjson

# Documents above this size are decoded or encoded in pieces, and on a worker thread by the async
# helpers (orjson takes about 6 ms a megabyte; a thread hop costs more than a small document).
LARGE_BYTES = 1024 * 1024
# One piece of a long string: well under a millisecond of orjson.
PIECE_BYTES = 64 * 1024
# A large document with more strings than this (many short ones, not a few long ones) is decoded
# whole: finding its strings one by one would cost more than it saves.
MAX_STRINGS = 50_000

_BACKSLASH, _QUOTE = 0x5C, 0x22


async def loads_async(raw: bytes) -> Any:
    """orjson.loads from async code: a large document on a worker thread, in pieces."""
    if len(raw) <= LARGE_BYTES:
        return orjson.loads(raw)
    return await asyncio.to_thread(loads, raw)


async def dumps_async(value: Any) -> bytes:
    """orjson.dumps from async code: a value holding long strings on a worker thread, in pieces."""
    if text_size(value) <= LARGE_BYTES:
        return orjson.dumps(value)
    return await asyncio.to_thread(dumps, value)


def loads(raw: bytes) -> Any:
    """orjson.loads(raw), the same value or error; a large document's long strings in pieces.

    The error for a bad character inside a long string gives its position within the piece.
    """
    if len(raw) <= LARGE_BYTES:
        return orjson.loads(raw)
    spans = _long_strings(raw)
    if not spans:
        return orjson.loads(raw)
    marker = f"\ue000{uuid.uuid4().hex}:"  # stands for a long string in the document's skeleton
    skeleton: list[bytes] = []
    strings: dict[str, str] = {}
    position = 0
    for index, (start, end) in enumerate(spans):
        skeleton += [raw[position:start], b'"', f"{marker}{index}".encode(), b'"']
        position = end
    skeleton.append(raw[position:])
    value = orjson.loads(b"".join(skeleton))  # structure errors are reported as orjson reports them
    for index, (start, end) in enumerate(spans):
        strings[f"{marker}{index}"] = _string(raw, start + 1, end - 1)
    return _put_back(value, strings)


def dumps(value: Any) -> bytes:
    """orjson.dumps(value), byte for byte; strings longer than a piece are encoded a piece at a time."""
    parts: list[bytes] = []
    _encode(value, parts)
    return b"".join(parts)


def text_size(value: Any) -> int:
    """The characters of all strings in a JSON-like value (cheap: no text is scanned)."""
    total, stack = 0, [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            total += len(node)
        elif isinstance(node, dict):
            total += sum(len(k) for k in node if isinstance(k, str))
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return total


def _long_strings(raw: bytes) -> list[tuple[int, int]]:
    """(start, end) of each string value longer than a piece, quotes included. Keys stay in the
    skeleton; a document that is not valid JSON, or has too many strings, gives [] (orjson then
    decodes it whole)."""
    spans: list[tuple[int, int]] = []
    position = 0
    for _ in range(MAX_STRINGS):
        start = raw.find(b'"', position)
        if start < 0:
            return spans
        end = start
        while True:
            end = raw.find(b'"', end + 1)
            if end < 0:
                return []  # unterminated
            if _backslashes_before(raw, end, start + 1) % 2 == 0:
                break
        end += 1
        if end - start > PIECE_BYTES and raw[_WHITESPACE.match(raw, end).end():][:1] != b":":
            spans.append((start, end))
        position = end
    return []


_WHITESPACE = re.compile(rb"[ \t\r\n]*")


def _backslashes_before(raw: bytes, index: int, floor: int) -> int:
    """How many backslashes end just before raw[index] (none before `floor` counted)."""
    count, window = 0, 16
    while True:
        low = max(floor, index - count - window)
        run = raw[low:index - count]
        stripped = len(run.rstrip(b"\\"))
        count += len(run) - stripped
        if stripped or low == floor:
            return count
        window *= 4


def _string(raw: bytes, start: int, end: int) -> str:
    """The JSON string whose escaped content is raw[start:end], decoded a piece at a time."""
    pieces = []
    while start < end:
        cut = _cut(raw, start, min(start + PIECE_BYTES, end), end)
        pieces.append(orjson.loads(b'"' + raw[start:cut] + b'"'))
        start = cut
    return "".join(pieces)


# How far past a piece's end a place to split it is looked for (a string dense with escapes may
# have none: its rest is then decoded in one call).
_CUT_SEARCH = 256


def _cut(raw: bytes, start: int, target: int, end: int) -> int:
    """A place at or after `target` to split a string's content (which began at `start`): not
    inside a UTF-8 character or an escape, and not before a backslash (a surrogate pair's second
    half)."""
    for cut in range(target, min(target + _CUT_SEARCH, end)):
        byte = raw[cut]
        if byte == _BACKSLASH or 0x80 <= byte < 0xC0:
            continue
        nearest = raw.rfind(b"\\", max(start, cut - 6), cut)
        if nearest < 0:
            return cut
        if _backslashes_before(raw, nearest, start) % 2:
            return cut  # `nearest` closes a `\\` pair: the escape ended there
        if cut >= nearest + (6 if raw[nearest + 1] == _LETTER_U else 2):
            return cut  # past the escape `nearest` begins
    return end


_LETTER_U = 0x75


def _put_back(value: Any, strings: dict[str, str]) -> Any:
    if isinstance(value, str):
        return strings.get(value, value)
    stack = [value]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in items:
            if isinstance(child, str):
                if child in strings:
                    node[key] = strings[child]
            elif isinstance(child, (dict, list)):
                stack.append(child)
    return value


def _encode(value: Any, parts: list[bytes]) -> None:
    if isinstance(value, str) and len(value) > PIECE_BYTES:
        parts.append(b'"')
        for start in range(0, len(value), PIECE_BYTES):
            parts.append(orjson.dumps(value[start:start + PIECE_BYTES])[1:-1])
        parts.append(b'"')
    elif type(value) is dict:
        parts.append(b"{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                parts.append(b",")
            parts += [orjson.dumps(key), b":"]
            _encode(item, parts)
        parts.append(b"}")
    elif type(value) in (list, tuple):
        parts.append(b"[")
        for index, item in enumerate(value):
            if index:
                parts.append(b",")
            _encode(item, parts)
        parts.append(b"]")
    else:
        parts.append(orjson.dumps(value))
