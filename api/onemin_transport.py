"""A lean HTTP/1.1 transport for httpx, part of the upstream seam (used only by api/onemin_client.py).

httpx's default transport (httpcore over anyio and h11) cost about as much CPU per relayed call as
the rest of the relay together, and its pool scans every connection on each request. This one keeps
httpx's interface (httpx.Request in, httpx.Response out, httpx exceptions) over plain asyncio
streams: one write per request, a LIFO pool of keep-alive connections per origin, O(1) checks.
"""
from __future__ import annotations

import asyncio
import ssl
import time
from collections import defaultdict
from typing import AsyncIterator

import httpx

_MAX_HEAD = 256 * 1024
_READ_CHUNK = 64 * 1024
_NO_BODY_STATUSES = {204, 304}


class _Connection:
    __slots__ = ("reader", "writer", "origin", "idle_since", "requests")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, origin: tuple) -> None:
        self.reader, self.writer, self.origin = reader, writer, origin
        self.idle_since = 0.0
        self.requests = 0

    def usable(self, now: float, expiry: float) -> bool:
        """Idle and still good: not expired, not closed by the server, nothing unexpected buffered."""
        return (
            now - self.idle_since < expiry
            and not self.reader.at_eof()
            and not self.reader._buffer  # noqa: SLF001 - bytes on an idle connection mean it is broken
            and not self.writer.is_closing()
        )

    def close(self) -> None:
        self.writer.close()


class _Framing:
    """How the response body ends: a length, chunked encoding, or the connection closing."""

    def __init__(self, kind: str, length: int = 0) -> None:
        self.kind, self.remaining = kind, length


class LeanTransport(httpx.AsyncBaseTransport):
    def __init__(self, max_connections: int = 1000, max_keepalive: int = 100, keepalive_expiry: float = 5.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: dict[tuple, list[_Connection]] = defaultdict(list)
        self._idle_count = 0
        self._max_keepalive, self._expiry = max_keepalive, keepalive_expiry
        self._ssl = ssl_context  # made on the first https connection when not given
        self._closed = False

    # ---- the httpx interface --------------------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        await self._take_slot(request, timeout.get("pool"))
        connection: _Connection | None = None
        try:
            connection = await self._connection(request, timeout.get("connect"))
            head = await _serialize(request)
            await _write(connection, head, request, timeout.get("write"))
            status, reason, headers, keep_alive = await _read_head(connection, request, timeout.get("read"))
            framing = _framing(request, status, headers)
        except BaseException:
            if connection is not None:
                connection.close()
            self._slots.release()
            raise
        stream = _ResponseStream(self, connection, framing, request, timeout.get("read"), keep_alive)
        return httpx.Response(status, headers=headers, stream=stream,
                              extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason})

    async def aclose(self) -> None:
        self._closed = True
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()
        self._idle_count = 0

    # ---- the pool -------------------------------------------------------------------------------

    async def _take_slot(self, request: httpx.Request, timeout: float | None) -> None:
        if not self._slots.locked():
            await self._slots.acquire()  # free slot: no timer needed
            return
        try:
            async with asyncio.timeout(timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("No connection to 1min.ai became free in time.", request=request) from None

    async def _connection(self, request: httpx.Request, timeout: float | None) -> _Connection:
        url = request.url
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()  # the most recently used: the least likely to have timed out
            self._idle_count -= 1
            if connection.usable(now, self._expiry):
                return connection
            connection.close()
        tls = None
        if origin[0] == "https":
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()
            tls = self._ssl
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    origin[1], origin[2], ssl=tls, server_hostname=origin[1] if tls else None, limit=_MAX_HEAD
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"Connecting to {origin[1]} timed out.", request=request) from None
        except (OSError, ssl.SSLError) as error:
            raise httpx.ConnectError(f"Could not connect to {origin[1]}: {error}", request=request) from None
        return _Connection(reader, writer, origin)

    def _release(self, connection: _Connection, reusable: bool) -> None:
        self._slots.release()
        if reusable and not self._closed and self._idle_count < self._max_keepalive:
            connection.idle_since = time.monotonic()
            self._idle[connection.origin].append(connection)
            self._idle_count += 1
        else:
            connection.close()


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, pool: LeanTransport, connection: _Connection, framing: _Framing, request: httpx.Request,
                 timeout: float | None, keep_alive: bool) -> None:
        self._pool, self._connection, self._framing = pool, connection, framing
        self._request, self._timeout, self._keep_alive = request, timeout, keep_alive
        self._done = framing.kind == "none"
        self._released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        reader = self._connection.reader
        framing = self._framing
        try:
            while not self._done:
                if framing.kind == "length" and len(reader._buffer) >= framing.remaining:  # noqa: SLF001
                    chunk = await self._next(reader)  # all there already: no timer to arm
                else:
                    # The deadline covers each read, never the time the consumer spends between chunks.
                    async with asyncio.timeout(self._timeout):
                        chunk = await self._next(reader)
                if chunk:
                    yield chunk
        except TimeoutError:
            raise httpx.ReadTimeout("1min.ai stopped sending.", request=self._request) from None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
            raise httpx.RemoteProtocolError(f"The response broke off: {error}", request=self._request) from None

    async def _next(self, reader: asyncio.StreamReader) -> bytes:
        framing = self._framing
        if framing.kind == "length":
            chunk = await reader.read(min(framing.remaining, _READ_CHUNK))
            if not chunk:
                raise asyncio.IncompleteReadError(b"", framing.remaining)
            framing.remaining -= len(chunk)
            self._done = framing.remaining == 0
            return chunk
        if framing.kind == "chunked":
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, ignored
                    pass
                self._done = True
                return b""
            data = await reader.readexactly(size + 2)
            return data[:-2]
        chunk = await reader.read(_READ_CHUNK)  # until the server closes
        self._done = not chunk
        return chunk

    async def aclose(self) -> None:
        if self._released:
            return
        self._released = True
        # A body read to its end on a keep-alive connection leaves it ready for the next request.
        reusable = self._done and self._keep_alive and self._framing.kind != "eof"
        self._pool._release(self._connection, reusable)  # noqa: SLF001 - the pool's own stream


async def _serialize(request: httpx.Request) -> bytes:
    body = await request.aread()
    lines = [b"%s %s HTTP/1.1" % (request.method.encode(), request.url.raw_path)]
    chunked = False
    for name, value in request.headers.raw:
        if name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        lines.append(name + b": " + value)
    if chunked:
        body = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def _write(connection: _Connection, data: bytes, request: httpx.Request, timeout: float | None) -> None:
    connection.requests += 1
    try:
        connection.writer.write(data)
        if connection.writer.transport.get_write_buffer_size() > 0:
            async with asyncio.timeout(timeout):
                await connection.writer.drain()
    except TimeoutError:
        raise httpx.WriteTimeout("Sending to 1min.ai timed out.", request=request) from None
    except OSError as error:
        raise httpx.WriteError(f"Sending to 1min.ai failed: {error}", request=request) from None


async def _read_head(connection: _Connection, request: httpx.Request, timeout: float | None) -> tuple[int, bytes, list, bool]:
    try:
        async with asyncio.timeout(timeout):
            while True:
                head = await connection.reader.readuntil(b"\r\n\r\n")
                status_line, *header_lines = head[:-4].split(b"\r\n")
                version, status_text, reason = (status_line.split(b" ", 2) + [b""])[:3]
                status = int(status_text)
                if not version.startswith(b"HTTP/1.") or not 100 <= status <= 599:
                    raise ValueError(status_line)
                if status >= 200 or status == 101:
                    break  # 1xx interim answers (100 Continue, 103 Early Hints) are skipped
    except TimeoutError:
        raise httpx.ReadTimeout("1min.ai did not answer in time.", request=request) from None
    except asyncio.IncompleteReadError:
        raise httpx.RemoteProtocolError("1min.ai closed the connection without answering.", request=request) from None
    except (OSError, asyncio.LimitOverrunError, ValueError) as error:
        raise httpx.RemoteProtocolError(f"1min.ai's answer is not HTTP/1.1: {error}", request=request) from None
    headers = []
    for line in header_lines:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            raise httpx.RemoteProtocolError("1min.ai sent a malformed header.", request=request)
        headers.append((name, value.strip()))
    connection_header = (_header(headers, b"connection") or b"").lower()
    # HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 closes unless told to keep it.
    keep_alive = b"keep-alive" in connection_header if version == b"HTTP/1.0" else b"close" not in connection_header
    return status, reason, headers, keep_alive


def _header(headers: list, name: bytes) -> bytes | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _framing(request: httpx.Request, status: int, headers: list) -> _Framing:
    if request.method == "HEAD" or status in _NO_BODY_STATUSES or status < 200:
        return _Framing("none")
    encoding = _header(headers, b"transfer-encoding")
    if encoding is not None and b"chunked" in encoding.lower():
        return _Framing("chunked")
    length = _header(headers, b"content-length")
    if length is None:
        return _Framing("eof")
    try:
        size = int(length.split(b",")[0])
    except ValueError:
        raise httpx.RemoteProtocolError("1min.ai sent a bad Content-Length.", request=request) from None
    return _Framing("length", size) if size > 0 else _Framing("none")
