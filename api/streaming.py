"""Server-sent events: decoding the upstream's byte stream and framing the client's."""
from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterator

import orjson


@dataclass(frozen=True)
class SSEEvent:
    event: str
    data: str

    def json(self) -> Any:
        """The data as JSON, or None; parsed once (an event is checked, then read)."""
        return self._parsed

    @cached_property
    def _parsed(self) -> Any:
        try:
            return orjson.loads(self.data)
        except orjson.JSONDecodeError:
            return None


class SSEDecoder:
    """Incremental SSE parser: bytes may split events, lines and UTF-8 characters anywhere."""

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> Iterator[SSEEvent]:
        self._buffer += self._utf8.decode(chunk)
        yield from self._drain_lines()

    def close(self) -> Iterator[SSEEvent]:
        """Flush what is left when the stream ends (an unterminated last event still counts)."""
        self._buffer += self._utf8.decode(b"", final=True)
        if self._buffer:
            self._buffer += "\n"
        yield from self._drain_lines()
        event = self._dispatch()
        if event is not None:
            yield event

    def _drain_lines(self) -> Iterator[SSEEvent]:
        while True:
            index = self._line_end()
            if index < 0:
                return
            line = self._buffer[:index]
            # CRLF counts as one line end; a lone CR at the very end may still be followed by LF.
            skip = 2 if self._buffer.startswith("\r\n", index) else 1
            self._buffer = self._buffer[index + skip :]
            event = self._line(line)
            if event is not None:
                yield event

    def _line_end(self) -> int:
        lf = self._buffer.find("\n")
        cr = self._buffer.find("\r")
        if cr < 0:
            return lf
        if cr == len(self._buffer) - 1:
            return lf if 0 <= lf < cr else -1  # wait: the next byte may be the LF of a CRLF
        return cr if lf < 0 or cr < lf else lf

    def _line(self, line: str) -> SSEEvent | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None

    def _dispatch(self) -> SSEEvent | None:
        if not self._data and not self._event:
            return None
        event = SSEEvent(self._event or "message", "\n".join(self._data))
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
