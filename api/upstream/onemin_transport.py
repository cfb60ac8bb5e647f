"""The upstream HTTP transport: aiohttp's client behind httpx's interface.

httpx's own transport (httpcore over anyio and h11) costs about as much CPU per relayed call as
the rest of the relay together (bench/reports). aiohttp's client is maintained, parses HTTP in C,
frames strictly and honours the proxy environment; this module puts it behind
httpx.AsyncBaseTransport (as httpx-aiohttp, the transport the official OpenAI SDK offers, does), so
the rest of the seam keeps httpx's requests, responses and exceptions. `UPSTREAM_TRANSPORT=httpx`
switches back to httpx's own.
"""
from __future__ import annotations

import ssl
from typing import Any

import aiohttp
import httpx
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from api.upstream.response_cap import too_large

# A request extension: read the answer whole here, failing past this many bytes (the seam's cap).
READ_LIMIT = "relay_read_limit"

# aiohttp failures that are not connection errors (a malformed answer, a header it refuses to
# send): each must reach the seam as an httpx error, or it would escape the error mapping as a 500.
_PROTOCOL_ERRORS = (aiohttp.ClientResponseError, aiohttp.http_exceptions.HttpProcessingError)
_AIOHTTP_ERRORS = (aiohttp.ClientError, OSError, *_PROTOCOL_ERRORS)


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


class _Body(httpx.AsyncByteStream):
    """A streamed answer's body: what aiohttp has buffered, one read at a time, its failures as
    httpx errors. An iterator object rather than an async generator: httpx does not close the
    generator it iterates, and each one left open costs the event loop a finaliser callback per
    response. aclose() (httpx's Response.aclose) releases the connection, or drops it if unread."""

    __slots__ = ("_response",)

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    def __aiter__(self) -> "_Body":  # type: ignore[override]
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk = await self._response.content.readany()
        except _AIOHTTP_ERRORS as exc:
            raise _httpx_error(exc) from exc
        if not chunk:
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        self._response.release()
        await self._response.wait_for_close()


async def _read_whole(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body (one read for a short answer), or UpstreamError past `limit` bytes."""
    declared = response.content_length
    if declared is not None and declared > limit:
        raise too_large(limit)
    content, chunks, size = response.content, [], 0
    while chunk := await content.readany():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


Origin = tuple[str, str, "int | None"]
# Origins whose proxy was looked up are remembered up to this many (the relay talks to a handful).
MAX_REMEMBERED_ORIGINS = 1024


class UpstreamTransport(httpx.AsyncBaseTransport):
    """One aiohttp session per process (made lazily in the running loop); each origin's proxy from
    the environment, looked up once.

    aiohttp's own `trust_env` reads the proxy variables and parses ~/.netrc in a worker thread on
    every request (two thread hops per call, and a GIL hand-off that slowed the event loop: the
    bench report of 2026-12-06). The same rules (aiohttp's get_env_proxy_for_url: HTTPS_PROXY,
    HTTP_PROXY, NO_PROXY, proxy credentials from the URL or .netrc) are applied here once per
    origin, so a change to them takes a restart, as with httpx's own transport.

    A request with the READ_LIMIT extension is answered with its body already read (at most that
    many bytes): the seam's non-streamed calls, which so skip httpx's four layers of async
    iteration over a body that usually came in one piece.
    """

    def __init__(self, *, max_connections: int, keepalive_expiry: float = 5.0, trust_env: bool = True,
                 proxy: httpx.Proxy | None = None) -> None:
        self._max_connections, self._expiry, self._trust_env = max_connections, keepalive_expiry, trust_env
        self.proxy = proxy
        self.ssl_context: ssl.SSLContext = httpx.create_ssl_context(trust_env=trust_env)
        self._session: aiohttp.ClientSession | None = None
        self._routes: dict[Origin, UpstreamTransport] = {}  # origin -> this transport or a proxied one
        self._proxied: dict[tuple[str, str | None], UpstreamTransport] = {}
        self._timeouts: dict[tuple[Any, ...], aiohttp.ClientTimeout] = {}
        self._proxy_url = str(proxy.url) if proxy is not None else None
        self._proxy_headers = dict(proxy.headers) if proxy is not None else None

    def _new_session(self) -> aiohttp.ClientSession:
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

    def _timeout(self, timeout: dict[str, float | None]) -> aiohttp.ClientTimeout:
        # httpx's connect and read timeouts, and its pool wait as aiohttp's connect (which covers
        # waiting for a pool slot): the seam uses a handful of combinations, each built once.
        key = (timeout.get("connect"), timeout.get("read"), timeout.get("pool"))
        made = self._timeouts.get(key)
        if made is None:
            made = aiohttp.ClientTimeout(sock_connect=key[0], sock_read=key[1], connect=key[2])
            if len(self._timeouts) < 64:
                self._timeouts[key] = made
        return made

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        route = self._route(request.url)
        if route is not self:
            return await route.handle_async_request(request)
        headers = request.headers
        if self.proxy is not None and request.url.scheme == "http" and "proxy-authorization" in self.proxy.headers:
            # A plain-HTTP request goes to the proxy itself, with its credentials (aiohttp sends
            # proxy headers only on an https CONNECT).
            headers["Proxy-Authorization"] = self.proxy.headers["proxy-authorization"]
        data: Any
        try:
            data = request.content or None
        except httpx.RequestNotRead:  # a body sent in pieces (its Content-Length is set)
            data = request.stream
            headers.pop("transfer-encoding", None)
        if self._session is None:
            self._session = self._new_session()
        extensions = request.extensions
        try:
            response = await self._session.request(
                request.method, str(request.url), headers=headers, data=data, allow_redirects=False,
                timeout=self._timeout(extensions.get("timeout", {})), server_hostname=extensions.get("sni_hostname"),
                proxy=self._proxy_url, proxy_headers=self._proxy_headers,
            )
        except ValueError as exc:  # aiohttp refuses CR/LF and other bad bytes in outgoing headers
            raise httpx.LocalProtocolError(f"Refused to send a malformed request: {exc}") from exc
        except _AIOHTTP_ERRORS as exc:
            raise _httpx_error(exc) from exc
        meta = {"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode()}
        limit = extensions.get(READ_LIMIT)
        if limit is None:
            return httpx.Response(response.status, headers=response.raw_headers, stream=_Body(response),
                                  request=request, extensions=meta)
        try:
            body = await _read_whole(response, limit)
        except BaseException as exc:
            response.close()  # the connection is not reused: what is left of the answer is unread
            if isinstance(exc, _AIOHTTP_ERRORS):
                raise _httpx_error(exc) from exc
            raise
        response.release()
        answer = httpx.Response(response.status, headers=response.raw_headers, stream=httpx.ByteStream(body),
                                request=request, extensions=meta)
        answer.read()  # no I/O: the bytes are here (decoded if 1min.ai compressed them)
        return answer

    async def aclose(self) -> None:
        for transport in self._proxied.values():
            await transport.aclose()
        if self._session is not None:
            await self._session.close()


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
