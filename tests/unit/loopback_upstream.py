"""A scripted HTTP/1.1 server on loopback for the upstream transport's tests: each connection is
handled by a test's own coroutine, so any framing (or breakage) can be played."""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

import httpx

from api.upstream.onemin_transport import UpstreamTransport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head, await reader.readexactly(length) if length else b""


def serve(handler: Handler):
    """Run `scenario(url, transport)` against a server whose connections are handled by `handler`."""

    def runner(scenario: Callable[[str, UpstreamTransport], Awaitable[None]], **pool: int) -> dict:
        stats = {"connections": 0}

        async def on_connection(reader, writer):
            stats["connections"] += 1
            try:
                await handler(reader, writer, stats["connections"])
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        async def main():
            server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            transport = UpstreamTransport(max_connections=pool.get("max_connections", 100))
            try:
                await scenario(f"http://127.0.0.1:{port}", transport)
            finally:
                await transport.aclose()
                server.close()

        asyncio.run(main())
        return stats

    return runner


async def get(transport: httpx.AsyncBaseTransport, url: str, method: str = "POST", timeout: float = 2.0, body: bytes = b"{}") -> httpx.Response:
    request = httpx.Request(method, url, content=body, extensions={"timeout": httpx.Timeout(timeout).as_dict()})
    response = await transport.handle_async_request(request)
    response.request = request
    await response.aread()
    return response


def keep_alive_server(responses: list[bytes]) -> Handler:
    async def handler(reader, writer, _):
        for raw in responses:
            await read_request(reader)
            writer.write(raw)
            await writer.drain()
        await reader.read()  # hold the connection until the client closes it
    return handler


def answers(raw: bytes) -> Handler:
    async def handler(reader, writer, _):
        await read_request(reader)
        writer.write(raw)
        await writer.drain()
        await reader.read()
    return handler
