"""The bare forwarder: an ASGI app with nothing of Django that relays each POST to 1min.ai's chat URL.

The yardstick for the relay's CPU per call (issue 16 item 5): the same daphne, the same upstream
transport (api/upstream/onemin_transport.py) and the same upstream call, with no relay work around
them. The upstream URL is FORWARDER_UPSTREAM_URL (the simulator's /api/chat-with-ai). Serve with
`FORWARDER_UPSTREAM_URL=... python -m daphne -b 127.0.0.1 -p PORT bench.forwarder_app:application`.
"""
from __future__ import annotations

import os
from typing import Any, Awaitable, Callable

import httpx

from api.upstream.onemin_transport import UpstreamTransport

UPSTREAM_URL = os.environ["FORWARDER_UPSTREAM_URL"]
# The headers the direct runs send the simulator; the caller's values are passed on unchanged.
FORWARDED = (b"api-key", b"content-type")
# As the relay's defaults (UPSTREAM_MAX_CONNECTIONS, the seam's timeouts): no tighter pool than its.
MAX_CONNECTIONS = 1000
TIMEOUT = httpx.Timeout(120.0, connect=10.0, pool=10.0).as_dict()

_transport: UpstreamTransport | None = None

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _upstream() -> UpstreamTransport:
    """One transport per process, made on first use so its aiohttp session belongs to daphne's loop."""
    global _transport
    if _transport is None:
        _transport = UpstreamTransport(max_connections=MAX_CONNECTIONS, trust_env=False)
    return _transport


async def _read_body(receive: Receive) -> bytes | None:
    """The request body, or None if the client went away first."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Send, status: int, content_type: bytes, body: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def application(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = await _read_body(receive)
    if body is None:
        return
    if scope["method"] != "POST":  # the readiness probe's GET: answered without calling upstream
        await _answer(send, 405, b"text/plain", b"POST only")
        return
    headers = [(name, value) for name, value in scope["headers"] if name in FORWARDED]
    request = httpx.Request("POST", UPSTREAM_URL, headers=headers, content=body, extensions={"timeout": TIMEOUT})
    try:
        response = await _upstream().handle_async_request(request)
        try:
            content = await response.aread()
        finally:
            await response.aclose()
    except httpx.HTTPError as error:
        await _answer(send, 502, b"text/plain", f"upstream failed: {error!r}".encode())
        return
    content_type = response.headers.get("content-type", "application/octet-stream").encode("latin-1")
    await _answer(send, response.status_code, content_type, content)
