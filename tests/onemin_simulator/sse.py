"""Serialises unified-chat SSE streams and legacy raw-text streams, healthy or broken on purpose."""
from __future__ import annotations

from typing import Any, Optional

from .wire import StreamResponse, dumps

# Delta lengths in characters, cycled: small and uneven so relays see realistic pieces.
DELTA_SIZES = (1, 3, 2, 4)
SHAPING_KEYS = ("chunk_size", "chunk_delay_ms", "duplicate_final", "multi_data_lines", "crlf")


def shaping(script: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """Stream shaping options: the script's own value wins over the global switch."""
    return {key: script.get(key, config[key]) for key in SHAPING_KEYS}


def event(name: str, payload: Any, crlf: bool = False) -> bytes:
    eol = b"\r\n" if crlf else b"\n"
    return b"event: " + name.encode() + eol + b"data: " + dumps(payload) + eol + eol


def multi_line_event(name: str, payload: dict[str, Any], crlf: bool = False) -> bytes:
    """The same event with its JSON split over two `data:` lines right after the first key.

    SSE joins data lines with "\\n", and a newline between a key's colon and its value is
    legal JSON whitespace, so the joined data still parses to `payload`.
    """
    eol = b"\r\n" if crlf else b"\n"
    data = dumps(payload)
    cut = data.index(b'":') + 2
    return (b"event: " + name.encode() + eol + b"data: " + data[:cut] + eol
            + b"data: " + data[cut:] + eol + eol)


def split_deltas(text: str) -> list[str]:
    deltas, index, turn = [], 0, 0
    while index < len(text):
        size = DELTA_SIZES[turn % len(DELTA_SIZES)]
        deltas.append(text[index:index + size])
        index += size
        turn += 1
    return deltas


def _stream(pieces: list[bytes], script: dict[str, Any], config: dict[str, Any],
            content_type: str = "text/event-stream; charset=utf-8", ending: str = "finish",
            stall_ms: int = 0) -> StreamResponse:
    opts = shaping(script, config)
    return StreamResponse(
        pieces=pieces, content_type=content_type, ending=ending, stall_ms=stall_ms,
        chunk_size=opts["chunk_size"], chunk_delay_ms=int(opts["chunk_delay_ms"] or 0),
        delay_headers_ms=int(script.get("delay_headers_ms") or 0),
        delay_body_ms=int(script.get("delay_body_ms") or 0),
        transfer=config["stream_transfer"], headers=dict(script.get("headers") or {}))


def _cut(events: list[bytes], script: dict[str, Any], crlf: bool) -> tuple[list[bytes], str]:
    """Apply the failure keys that truncate the sequence (content*, result, done)."""
    if script.get("stream_error_after") is not None:
        keep = events[:int(script["stream_error_after"])]
        keep.append(event("error", {"error": script.get("message") or "Stream failed"}, crlf))
        if script.get("done_after_error"):
            keep.append(event("done", {"message": "Stream completed"}, crlf))
        return keep, "finish"
    if script.get("drop_after") is not None:
        return events[:int(script["drop_after"])], "drop"
    if script.get("stall_after") is not None:
        return events[:int(script["stall_after"])], "stall"
    return events, "finish"


def chat_stream(text: str, record: dict[str, Any], script: dict[str, Any],
                config: dict[str, Any]) -> StreamResponse:
    """content* (first delta ""), result {aiRecord}, done — then close. Never `data: [DONE]`."""
    opts = shaping(script, config)
    crlf = bool(opts["crlf"])
    deltas = [""] + split_deltas(text)
    if opts["duplicate_final"]:
        # Some models were seen re-sending the accumulated text as a last content event.
        deltas.append(text)
    events = [event("content", {"content": d}, crlf) for d in deltas]
    if opts["multi_data_lines"]:
        target = 1 if len(deltas) > 1 else 0
        events[target] = multi_line_event("content", {"content": deltas[target]}, crlf)
    if not script.get("omit_result"):
        events.append(event("result", {"aiRecord": record}, crlf))
    if not script.get("omit_done"):
        events.append(event("done", {"message": "Stream completed"}, crlf))
    events, ending = _cut(events, script, crlf)
    return _stream(events, script, config, ending=ending, stall_ms=int(script.get("stall_ms") or 0))


def error_stream(message: str, script: Optional[dict[str, Any]],
                 config: dict[str, Any]) -> StreamResponse:
    """HTTP 200 whose only event is `event: error` (how upstream refuses a streaming call)."""
    script = script or {}
    crlf = bool(shaping(script, config)["crlf"])
    pieces = [event("error", {"error": message}, crlf)]
    if script.get("done_after_error"):
        pieces.append(event("done", {"message": "Stream completed"}, crlf))
    return _stream(pieces, script, config)


def garbage_stream(script: dict[str, Any], config: dict[str, Any]) -> StreamResponse:
    """A 200 event stream whose data lines are not JSON (the invalid_json script)."""
    pieces = [b'event: content\ndata: {"content":"unterminated\n\n',
              b"event: done\ndata: <html>not json</html>\n\n"]
    return _stream(pieces, script, config)


def raw_text_stream(text: str, script: dict[str, Any], config: dict[str, Any]) -> StreamResponse:
    """Legacy /api/features streaming: bare UTF-8 text, no framing, ends when the socket closes."""
    pieces = [d.encode("utf-8") for d in split_deltas(text)]
    pieces, ending = _cut(pieces, {k: v for k, v in script.items() if k != "stream_error_after"},
                          False)
    return _stream(pieces, script, config, content_type="text/plain; charset=utf-8",
                   ending=ending, stall_ms=int(script.get("stall_ms") or 0))
