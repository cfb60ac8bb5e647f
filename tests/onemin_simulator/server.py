"""HTTP/1.1 over asyncio streams: request parsing, keep-alive, delayed and fragmented responses."""
from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import traceback
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Optional, Union
from urllib.parse import parse_qsl, urlsplit

from .wire import HttpRequest, Response, StreamResponse, json_response

Dispatch = Callable[[HttpRequest], Awaitable[Union[Response, StreamResponse]]]

MAX_HEADER_BYTES = 64 * 1024
# Cloudflare's own status codes have no HTTPStatus entry.
EXTRA_REASONS = {520: "Unknown Error", 521: "Web Server Is Down", 522: "Connection Timed Out",
                 523: "Origin Is Unreachable", 524: "A Timeout Occurred"}


class BadRequest(Exception):
    """The bytes on the wire are not a request we can parse; answer 400 and close."""


def reason(status: int) -> str:
    if status in EXTRA_REASONS:
        return EXTRA_REASONS[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class HttpServer:
    """Accepts connections and runs each request through `dispatch`."""

    def __init__(self, dispatch: Dispatch) -> None:
        self._dispatch = dispatch
        self._server: Optional[asyncio.AbstractServer] = None
        self._connections: set[asyncio.Task] = set()

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._on_connect, host, port,
                                                  limit=MAX_HEADER_BYTES)
        return self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        # Stalled streams would otherwise keep the loop alive after stop().
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # Each write must leave as its own segment or fragmentation tests mean nothing.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            # Only close() cancels us; ending normally keeps asyncio's stream callback from
            # logging the cancellation as an error (Python 3.11).
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                request = await read_request(reader, writer)
            except BadRequest as exc:
                await write_response(writer, reader, "GET",
                                     json_response({"errorCode": "BAD_REQUEST", "message": str(exc)},
                                                   400, close=True), keep_alive=False)
                return
            if request is None:
                return
            response = await self._safe_dispatch(request)
            if isinstance(response, StreamResponse):
                await write_stream(writer, reader, request.method, response)
                return
            # A delayed response watches the read half for EOF, so that connection cannot be reused.
            delayed = response.delay_headers_ms > 0 or response.delay_body_ms > 0
            keep_alive = wants_keep_alive(request) and not response.close and not delayed
            await write_response(writer, reader, request.method, response, keep_alive)
            if not keep_alive:
                return

    async def _safe_dispatch(self, request: HttpRequest) -> Union[Response, StreamResponse]:
        try:
            return await self._dispatch(request)
        except Exception as exc:  # a simulator bug must show up as a 500, not a hung client
            traceback.print_exc(file=sys.stderr)
            return json_response({"errorCode": "SIMULATOR_BUG", "message": repr(exc)}, 500)


def wants_keep_alive(request: HttpRequest) -> bool:
    connection = (request.header("connection") or "").lower()
    if request.http_version == "HTTP/1.0":
        return "keep-alive" in connection
    return "close" not in connection


async def read_request(reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> Optional[HttpRequest]:
    """Read one request; None when the client closed the connection between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise BadRequest("incomplete request head") from exc
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise BadRequest(f"malformed request line: {lines[0][:100]!r}")
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest(f"malformed header line: {line[:100]!r}")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    if headers.get("expect", "").lower() == "100-continue":
        # curl waits for this before sending large bodies (standalone demos upload files).
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
    body = await read_body(reader, headers)
    split = urlsplit(target)
    query: dict[str, str] = {}
    for name, value in parse_qsl(split.query, keep_blank_values=True):
        query.setdefault(name, value)
    peer = writer.get_extra_info("peername")
    return HttpRequest(method=method.upper(), target=target, path=split.path or "/", query=query,
                       headers=headers, body=body, http_version=version,
                       peer=f"{peer[0]}:{peer[1]}" if peer else "")


async def read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await read_chunked(reader)
    length = headers.get("content-length")
    if length is None:
        return b""
    try:
        size = int(length)
    except ValueError as exc:
        raise BadRequest(f"bad Content-Length {length!r}") from exc
    return await reader.readexactly(size) if size > 0 else b""


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        try:
            size = int(line.split(b";")[0].strip(), 16)
        except ValueError as exc:
            raise BadRequest("bad chunk size line") from exc
        if size == 0:
            # Trailers (usually none) end with an empty line.
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return bytes(body)
        body += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise BadRequest("chunk not followed by CRLF")


def head_bytes(status: int, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason(status)}"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def base_headers(content_type: Optional[str], extra: dict[str, str]) -> list[tuple[str, str]]:
    """Default headers, each replaced by a same-named one in `extra` (e.g. Server: cloudflare)."""
    headers = {"Date": formatdate(usegmt=True), "Server": "onemin-simulator"}
    if content_type:
        headers["Content-Type"] = content_type
    lowered = {name.lower() for name in extra}
    merged = [(k, v) for k, v in headers.items() if k.lower() not in lowered]
    return merged + list(extra.items())


class ClientWatch:
    """Notices the client closing its side while we delay or stream (EOF on the read half)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._task = asyncio.ensure_future(reader.read(1))
        self.closed = False

    def check(self) -> bool:
        if not self.closed and self._task.done():
            # Any data means a pipelined request we will never answer; only EOF/error is a close.
            self.closed = self._task.cancelled() or self._task.exception() is not None \
                or self._task.result() == b""
        return self.closed

    async def pause(self, ms: int) -> bool:
        """Sleep `ms` milliseconds; True when the client went away meanwhile."""
        if self.check():
            return True
        if ms > 0:
            await asyncio.wait([self._task], timeout=ms / 1000)
        return self.check()

    def cancel(self) -> None:
        self._task.cancel()


async def write_response(writer: asyncio.StreamWriter, reader: asyncio.StreamReader, method: str,
                         response: Response, keep_alive: bool) -> None:
    delayed = response.delay_headers_ms > 0 or response.delay_body_ms > 0
    headers = base_headers(response.content_type, response.headers)
    headers.append(("Content-Length", str(len(response.body))))
    headers.append(("Connection", "keep-alive" if keep_alive else "close"))
    outcome: dict[str, Any] = {"write_sizes": [], "client_closed": False}
    watch = ClientWatch(reader) if delayed else None
    try:
        if watch and await watch.pause(response.delay_headers_ms):
            outcome["client_closed"] = True
            return
        writer.write(head_bytes(response.status, headers))
        await writer.drain()
        if watch and await watch.pause(response.delay_body_ms):
            outcome["client_closed"] = True
            return
        if method != "HEAD" and response.body:
            writer.write(response.body)
            outcome["write_sizes"].append(len(response.body))
        await writer.drain()
    except ConnectionError:
        outcome["client_closed"] = True
        raise
    finally:
        if watch:
            watch.cancel()
        if response.on_done:
            response.on_done(outcome)


def fragments(response: StreamResponse) -> list[bytes]:
    if not response.chunk_size:
        return [p for p in response.pieces if p]
    data = b"".join(response.pieces)
    size = response.chunk_size
    return [data[i:i + size] for i in range(0, len(data), size)]


async def write_stream(writer: asyncio.StreamWriter, reader: asyncio.StreamReader, method: str,
                       response: StreamResponse) -> None:
    chunked = response.transfer == "chunked"
    headers = base_headers(response.content_type, {"Cache-Control": "no-cache",
                                                   "X-Accel-Buffering": "no", **response.headers})
    if chunked:
        headers.append(("Transfer-Encoding", "chunked"))
    headers.append(("Connection", "close"))
    outcome: dict[str, Any] = {"write_sizes": [], "client_closed": False}
    watch = ClientWatch(reader)
    try:
        if await watch.pause(response.delay_headers_ms):
            outcome["client_closed"] = True
            return
        writer.write(head_bytes(response.status, headers))
        await writer.drain()
        if await watch.pause(response.delay_body_ms) or method == "HEAD":
            outcome["client_closed"] = watch.closed
            return
        for index, piece in enumerate(fragments(response)):
            if (index and await watch.pause(response.chunk_delay_ms)) or watch.check():
                outcome["client_closed"] = True
                return
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            await writer.drain()
            outcome["write_sizes"].append(len(piece))
        if response.ending == "stall" and await watch.pause(response.stall_ms):
            outcome["client_closed"] = True
            return
        if response.ending == "finish" and chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except ConnectionError:
        outcome["client_closed"] = True
    finally:
        watch.cancel()
        if response.on_done:
            response.on_done(outcome)
