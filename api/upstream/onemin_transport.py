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
from aiohttp.helpers import get_env_proxy_for_url
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import AiohttpResponseStream
from yarl import URL

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
    """The response body, with aiohttp's payload and framing errors raised as httpx ones.

    An iterator object rather than an async generator: httpx does not close the generator it
    iterates, and each one left open costs the event loop a finaliser callback and a self-pipe
    write per response. aclose() (httpx's Response.aclose) closes what is open."""

    def __init__(self, inner: AiohttpResponseStream) -> None:
        self._inner = inner
        self._chunks: AsyncIterator[bytes] | None = None

    def __aiter__(self) -> "_CheckedStream":  # type: ignore[override]
        if self._chunks is None:
            self._chunks = self._inner.__aiter__()
        return self

    async def __anext__(self) -> bytes:
        assert self._chunks is not None
        try:
            return await self._chunks.__anext__()
        except (httpx.HTTPError, aiohttp.ClientError, *_PROTOCOL_ERRORS) as exc:
            translated = _translated(exc)
            if translated is exc:
                raise
            raise translated from exc

    async def aclose(self) -> None:
        if self._chunks is not None:
            await self._chunks.aclose()  # type: ignore[attr-defined]
        await self._inner.aclose()


Origin = tuple[str, str, "int | None"]
# Origins whose proxy was looked up are remembered up to this many (the relay talks to a handful).
MAX_REMEMBERED_ORIGINS = 1024


class UpstreamTransport(AiohttpTransport):
    """One aiohttp session per process (made lazily in the running loop); each origin's proxy from
    the environment, looked up once.

    aiohttp's own `trust_env` reads the proxy variables and parses ~/.netrc in a worker thread on
    every request (two thread hops per call, and a GIL hand-off that slowed the event loop: the
    bench report of 2026-12-06). The same rules (aiohttp's get_env_proxy_for_url: HTTPS_PROXY,
    HTTP_PROXY, NO_PROXY, proxy credentials from the URL or .netrc) are applied here once per
    origin, so a change to them takes a restart, as with httpx's own transport.
    """

    def __init__(self, *, max_connections: int, keepalive_expiry: float = 5.0, trust_env: bool = True,
                 proxy: httpx.Proxy | None = None) -> None:
        self._max_connections, self._expiry, self._trust_env = max_connections, keepalive_expiry, trust_env
        super().__init__(client=self._session, trust_env=trust_env, proxy=proxy)
        self._routes: dict[Origin, UpstreamTransport] = {}  # origin -> this transport or a proxied one
        self._proxied: dict[tuple[str, str | None], UpstreamTransport] = {}

    def _session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections, limit_per_host=0, keepalive_timeout=self._expiry, ssl=self.ssl_context,
        )
        # trust_env stays off: the proxy is chosen per origin by _route(), not on every request.
        return aiohttp.ClientSession(connector=connector, trust_env=False, auto_decompress=False,
                                     skip_auto_headers=("User-Agent",))

    def _route(self, url: httpx.URL) -> "UpstreamTransport":
        """This transport, or the one through the proxy the environment names for `url`'s origin."""
        if not self._trust_env or self.proxy is not None:
            return self
        origin = (url.scheme, url.host, url.port)
        route = self._routes.get(origin)
        if route is None:
            # Inline: once per origin, the environment and a small ~/.netrc read.
            found = _env_proxy(str(url))
            route = self if found is None else self._through(*found)
            if len(self._routes) >= MAX_REMEMBERED_ORIGINS:
                self._routes.clear()
            self._routes[origin] = route
        return route

    def _through(self, proxy_url: str, authorization: str | None) -> "UpstreamTransport":
        key = (proxy_url, authorization)
        transport = self._proxied.get(key)
        if transport is None:
            # Credentials as a header: aiohttp deprecates its proxy_auth parameter.
            headers = {"Proxy-Authorization": authorization} if authorization else None
            transport = UpstreamTransport(max_connections=self._max_connections, keepalive_expiry=self._expiry,
                                          trust_env=self._trust_env, proxy=httpx.Proxy(proxy_url, headers=headers))
            self._proxied[key] = transport
        return transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        route = self._route(request.url)
        if route is not self:
            return await route.handle_async_request(request)
        if self.proxy is not None and request.url.scheme == "http" and "proxy-authorization" in self.proxy.headers:
            # A plain-HTTP request goes to the proxy itself, with its credentials (aiohttp sends
            # proxy headers only on an https CONNECT).
            request.headers["Proxy-Authorization"] = self.proxy.headers["proxy-authorization"]
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

    async def aclose(self) -> None:
        for transport in self._proxied.values():
            await transport.aclose()
        await super().aclose()


def _env_proxy(url: str) -> tuple[str, str | None] | None:
    """The proxy URL and its Proxy-Authorization value the environment names for `url`, or None
    (aiohttp's rules: credentials from the proxy URL, else from ~/.netrc)."""
    try:
        proxy, auth = get_env_proxy_for_url(URL(url))
    except LookupError:
        return None
    if auth is not None:
        return str(proxy.with_user(None)), aiohttp.encode_basic_auth(auth.login, auth.password)
    if proxy.user is not None:
        return str(proxy.with_user(None)), aiohttp.encode_basic_auth(proxy.user, proxy.password or "")
    return str(proxy), None


def build(kind: str, *, max_connections: int, max_keepalive: int) -> httpx.AsyncBaseTransport:
    """The transport `UPSTREAM_TRANSPORT` names: "aiohttp" (default) or "httpx" (httpx's own)."""
    if kind == "httpx":
        return httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_keepalive),
            trust_env=True,
        )
    return UpstreamTransport(max_connections=max_connections)
