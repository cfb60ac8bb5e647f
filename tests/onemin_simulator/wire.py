"""HTTP message types passed between the TCP server and the route handlers."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

# Called once a response has been written: {"write_sizes": [...], "client_closed": bool}.
DoneHook = Callable[[dict[str, Any]], None]


@dataclass
class HttpRequest:
    """One parsed request; `headers` keys are lower-cased, duplicate headers joined by ", "."""

    method: str
    target: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    http_version: str = "HTTP/1.1"
    peer: str = ""  # "host:port" of the client socket (lets tests see connection reuse)

    def header(self, name: str, default: Optional[str] = None) -> Optional[str]:
        return self.headers.get(name.lower(), default)


@dataclass
class Response:
    """A complete response sent with Content-Length, optionally after delays."""

    status: int
    body: bytes = b""
    content_type: Optional[str] = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay_headers_ms: int = 0
    delay_body_ms: int = 0
    close: bool = False
    on_done: Optional[DoneHook] = None


@dataclass
class StreamResponse:
    """A body written piece by piece, ended by closing the connection (or by dropping it)."""

    pieces: list[bytes]
    status: int = 200
    content_type: str = "text/event-stream; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    # "finish": end cleanly; "drop": close without finishing; "stall": hang stall_ms then drop
    ending: str = "finish"
    stall_ms: int = 0
    chunk_size: Optional[int] = None
    chunk_delay_ms: int = 0
    delay_headers_ms: int = 0
    delay_body_ms: int = 0
    transfer: str = "chunked"
    on_done: Optional[DoneHook] = None


def dumps(payload: Any) -> bytes:
    """Compact UTF-8 JSON, as the upstream writes it (non-ASCII kept raw, not \\u-escaped)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(payload: Any, status: int = 200, **kwargs: Any) -> Response:
    return Response(status=status, body=dumps(payload), **kwargs)


def text_response(text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8",
                  **kwargs: Any) -> Response:
    return Response(status=status, body=text.encode("utf-8"), content_type=content_type, **kwargs)
