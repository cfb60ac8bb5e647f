"""Server-sent events: decoding the upstream's byte stream and framing the client's."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, Iterator

import orjson

from api import large_json
from core.errors import UpstreamError


_UNPARSED = object()


@dataclass(eq=False)
class SSEEvent:
    event: str
    raw: bytes  # the data lines, joined: bytes as sent, so JSON is decoded without a text copy
    _parsed: Any = field(default=_UNPARSED, repr=False)

    @property
    def data(self) -> str:
        return self.raw.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The data as JSON (None if it is not), decoded once."""
        if self._parsed is _UNPARSED:
            self._parsed = self._decoded()
        return self._parsed

    async def json_async(self) -> Any:
        """json() from async code: a large event (1min.ai's result echoes the prompt) decoded on a
        worker thread, in pieces (api/large_json.py)."""
        if self._parsed is _UNPARSED and len(self.raw) > large_json.LARGE_BYTES:
            self._parsed = await asyncio.to_thread(self._decoded)
        return self.json()

    def _decoded(self) -> Any:
        try:
            return large_json.loads(self.raw)
        except orjson.JSONDecodeError:
            pass
        try:  # bytes that are not UTF-8: read as the text a client would see
            return orjson.loads(self.data)
        except orjson.JSONDecodeError:
            return None


class SSEDecoder:
    """Incremental SSE parser: bytes may split events, lines and UTF-8 characters anywhere.

    Work is linear in the bytes fed: a line's pieces are joined once it ends, and only new bytes
    are searched for line ends (1min.ai's result event, one line, can be megabytes long).
    """

    def __init__(self, max_event_bytes: int | None = None) -> None:
        # An event (its data lines and the line still arriving) past this size is refused: a broken
        # or hostile upstream that never ends a line must not fill the relay's memory.
        self._max = max_event_bytes
        self._partial: list[bytes] = []  # the current line so far
        self._skip_lf = False  # the last chunk ended with CR: an LF starting the next is its pair
        self._event = ""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """The events this chunk completes, in order; UpstreamError when the event still open
        passes `max_event_bytes`."""
        events = list(self._feed_any(chunk)) if self._skip_lf or b"\r" in chunk else self._feed_lf(chunk)
        if self._max is not None:
            held = sum(map(len, self._partial)) + sum(map(len, self._data)) if self._partial or self._data else 0
            if held > self._max or any(len(event.raw) > self._max for event in events):
                self._partial, self._data = [], []
                raise UpstreamError(f"1min.ai sent a stream event larger than the relay accepts ({self._max} bytes).")
        return events

    def _feed_lf(self, chunk: bytes) -> list[SSEEvent]:
        # Only LF line ends (1min.ai's usual framing): the lines are split out in C and read here
        # in one loop; a short answer's two dozen events cost a third of what the general path
        # below does.
        lines = chunk.split(b"\n")
        if self._partial:
            lines[0] = b"".join([*self._partial, lines[0]])
            self._partial = []
        rest = lines.pop()  # after the last line end: the start of a line still to come
        if rest:
            self._partial.append(rest)
        events: list[SSEEvent] = []
        name, data = self._event, self._data
        for line in lines:
            if not line:
                if data or name:
                    events.append(SSEEvent(name or "message", b"\n".join(data)))
                    name, data = "", []
                continue
            colon = line.find(b":")
            if colon == 0:
                continue  # a comment
            if colon < 0:
                field_name, value = line, b""
            else:
                field_name = line[:colon]
                value = line[colon + 2:] if line[colon + 1:colon + 2] == b" " else line[colon + 1:]
            if field_name == b"data":
                data.append(value)
            elif field_name == b"event":
                name = value.decode("utf-8", errors="replace")
        self._event, self._data = name, data
        return events

    def _feed_any(self, chunk: bytes) -> Iterator[SSEEvent]:
        """Any mix of CR, LF and CRLF line ends, a CRLF possibly split between chunks."""
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        position, length = 0, len(chunk)
        lf, cr = chunk.find(b"\n"), chunk.find(b"\r")
        while lf >= 0 or cr >= 0:
            if cr < 0 or 0 <= lf < cr:
                end, skip = lf, 1
            elif cr + 1 < length:
                end, skip = cr, 2 if chunk[cr + 1] == 0x0A else 1  # CRLF counts as one line end
            else:
                end, skip, self._skip_lf = cr, 1, True
            line = chunk[position:end]
            if self._partial:
                line, self._partial = b"".join([*self._partial, line]), []
            position = end + skip
            if lf < position:
                lf = chunk.find(b"\n", position)
            if cr < position:
                cr = chunk.find(b"\r", position)
            event = self._line(line)
            if event is not None:
                yield event
        if position < length:
            self._partial.append(chunk[position:])

    def close(self) -> Iterator[SSEEvent]:
        """Flush what is left when the stream ends (an unterminated last event still counts)."""
        if self._partial:
            line, self._partial = b"".join(self._partial), []
            event = self._line(line)
            if event is not None:
                yield event
        event = self._dispatch()
        if event is not None:
            yield event

    def _line(self, line: bytes) -> SSEEvent | None:
        if line == b"":
            return self._dispatch()
        if line.startswith(b":"):
            return None
        colon = line.find(b":")
        if colon < 0:
            name, value = line, b""
        else:
            name = line[:colon]
            start = colon + 2 if line[colon + 1:colon + 2] == b" " else colon + 1
            value = line[start:]
        if name == b"event":
            self._event = value.decode("utf-8", errors="replace")
        elif name == b"data":
            self._data.append(value)
        return None

    def _dispatch(self) -> SSEEvent | None:
        if not self._data and not self._event:
            return None
        event = SSEEvent(self._event or "message", b"\n".join(self._data))
        self._event, self._data = "", []
        return event


def dumps(payload: Any) -> bytes:
    """JSON bytes by orjson; what it refuses (an integer past 64 bits a client sent) by the stdlib."""
    try:
        return orjson.dumps(payload)
    except TypeError:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def data_frame(payload: Any) -> bytes:
    """`data: <json>` then a blank line, as OpenAI's chat streams are framed."""
    return b"data: " + dumps(payload) + b"\n\n"


def event_frame(event: str, payload: Any) -> bytes:
    """`event: <name>` and `data: <json>`, as the Responses API streams are framed."""
    return b"event: " + event.encode() + b"\ndata: " + dumps(payload) + b"\n\n"


DONE_FRAME = b"data: [DONE]\n\n"

STREAM_HEADERS = {
    "Cache-Control": "no-cache",
    # Tells nginx-style proxies not to buffer the stream.
    "X-Accel-Buffering": "no",
}
