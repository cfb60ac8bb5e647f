"""The upstream HTTP transport: aiohttp's client (through httpx-aiohttp) behind httpx's interface.

httpx's own transport (httpcore over anyio and h11) costs about as much CPU per relayed call as
the rest of the relay together (bench/reports). aiohttp's client is maintained, parses HTTP in C,
frames strictly and honours the proxy environment; httpx-aiohttp (the transport the official
OpenAI SDK offers) puts it behind httpx.AsyncBaseTransport, so the rest of the seam keeps httpx's
requests, responses and exceptions. `UPSTREAM_TRANSPORT=httpx` switches back to httpx's own.
"""
from __future__ import annotations

from typing import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import AiohttpResponseStream

# aiohttp failures httpx-aiohttp leaves unmapped (a malformed answer, a header it refuses to send):
# each must reach the seam as an httpx error, or it would escape the error mapping as a 500.
_PROTOCOL_ERRORS = (aiohttp.ClientResponseError, aiohttp.http_exceptions.HttpProcessingError)


def _httpx_error(exc: BaseException) -> httpx.HTTPError:
    """The httpx error for an aiohttp failure. Which one matters: the seam retries only failures
    where nothing was sent (ConnectError, ConnectTimeout, PoolTimeout), so a connection that broke
    after the request went out must never look like one (httpx-aiohttp maps every
    ClientConnectionError, a server disconnect included, to ConnectTimeout)."""
    message = f"{type(exc).__name__}: {exc}"[:300]
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message)  # no connection (or pool slot) in time
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)  # refused, unreachable, TLS or proxy failure: nothing sent
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return httpx.ReadTimeout(message)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(message)  # the body broke off or was framed wrongly
    if isinstance(exc, (aiohttp.ClientConnectionError, OSError)):
        return httpx.ReadError(message)  # the connection broke after the request went out
    return httpx.RemoteProtocolError(message)


def _translated(exc: BaseException) -> BaseException:
    cause = exc.__cause__ if isinstance(exc, httpx.HTTPError) else exc
    if isinstance(cause, (aiohttp.ClientError, OSError, *_PROTOCOL_ERRORS)):
        return _httpx_error(cause)
    return exc


class _CheckedStream(httpx.AsyncByteStream):
    """The response body, with aiohttp's payload and framing errors raised as httpx ones."""

    def __init__(self, inner: AiohttpResponseStream) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except (httpx.HTTPError, aiohttp.ClientError, *_PROTOCOL_ERRORS) as exc:
            translated = _translated(exc)
            if translated is exc:
                raise
            raise translated from exc

    async def aclose(self) -> None:
        await self._inner.aclose()


class UpstreamTransport(AiohttpTransport):
    """One aiohttp session per process (made lazily in the running loop), proxies from the environment."""

    def __init__(self, *, max_connections: int, keepalive_expiry: float = 5.0, trust_env: bool = True) -> None:
        self._max_connections, self._expiry, self._trust_env = max_connections, keepalive_expiry, trust_env
        super().__init__(client=self._session, trust_env=trust_env)

    def _session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections, limit_per_host=0, keepalive_timeout=self._expiry, ssl=self.ssl_context,
        )
        # trust_env: HTTPS_PROXY / HTTP_PROXY / NO_PROXY (and .netrc for proxy credentials), as documented
        # for aiohttp; the relay's image fetcher honours the same variables.
        return aiohttp.ClientSession(connector=connector, trust_env=self._trust_env, auto_decompress=False,
                                     skip_auto_headers=("User-Agent",))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except ValueError as exc:  # aiohttp refuses CR/LF and other bad bytes in outgoing headers
            raise httpx.LocalProtocolError(f"Refused to send a malformed request: {exc}") from exc
        except (httpx.HTTPError, aiohttp.ClientError, *_PROTOCOL_ERRORS) as exc:
            translated = _translated(exc)
            if translated is exc:
                raise
            raise translated from exc
        response.stream = _CheckedStream(response.stream)  # type: ignore[arg-type]
        return response


def build(kind: str, *, max_connections: int, max_keepalive: int) -> httpx.AsyncBaseTransport:
    """The transport `UPSTREAM_TRANSPORT` names: "aiohttp" (default) or "httpx" (httpx's own)."""
    if kind == "httpx":
        return httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_keepalive),
            trust_env=True,
        )
    return UpstreamTransport(max_connections=max_connections)
