"""The one seam for HTTP to 1min.ai: a shared transport, timeouts and error mapping.

Requests go straight to the transport (api/onemin_transport.py): httpx.AsyncClient's per-request
work (cookie jar, auth and redirect flows, URL merging) bought nothing here and cost CPU on every call.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator
from urllib.parse import urlsplit

import httpx
import orjson
from django.conf import settings

from api import metrics, request_trace
from api.onemin_transport import LeanTransport
from api.errors import UpstreamError, UpstreamTimeout
from api.translators.upstream_errors import upstream_error

_client: httpx.AsyncClient | None = None
_transport: httpx.AsyncBaseTransport | None = None
_transport_loop: asyncio.AbstractEventLoop | None = None
# Tests replace the transport here (and only here) to put a fake upstream behind the seam.
transport_override: httpx.AsyncBaseTransport | None = None


def _timeout(read: float | None = None) -> httpx.Timeout:
    return httpx.Timeout(
        connect=settings.UPSTREAM_CONNECT_TIMEOUT,
        read=read if read is not None else settings.UPSTREAM_READ_TIMEOUT,
        write=settings.UPSTREAM_READ_TIMEOUT,
        pool=settings.UPSTREAM_CONNECT_TIMEOUT,
    )


def transport() -> httpx.AsyncBaseTransport:
    """The process's connection pool, made on first use in the running loop (one per daphne process)."""
    global _transport, _transport_loop, _client
    loop = asyncio.get_running_loop()
    if _transport is None or _transport_loop is not loop:
        _transport = transport_override or LeanTransport(
            max_connections=settings.UPSTREAM_MAX_CONNECTIONS,
            max_keepalive=settings.UPSTREAM_KEEPALIVE_CONNECTIONS,
        )
        _transport_loop, _client = loop, None
    return _transport


def client() -> httpx.AsyncClient:
    """An httpx client over the same pool, for callers that want httpx's conveniences."""
    global _client
    pool = transport()
    if _client is None or _client.is_closed:
        _client = httpx.AsyncClient(timeout=_timeout(), transport=pool, follow_redirects=False)
    return _client


async def _request(method: str, url: str, *, headers: dict[str, str], stream: bool = False,
                   timeout: httpx.Timeout | None = None, **build: Any) -> httpx.Response:
    """One request through the pool; the body is read (and the connection released) unless `stream`."""
    request = httpx.Request(method, url, headers=headers, extensions={"timeout": (timeout or _timeout()).as_dict()}, **build)
    response = await transport().handle_async_request(request)
    response.request = request
    if not stream:
        try:
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
    return response


_USER_AGENT = f"1min-relay/{settings.VERSION}"


def _headers(api_key: str | None, accept: str = "application/json") -> dict[str, str]:
    headers = {"Accept": accept, "User-Agent": _USER_AGENT}
    if api_key is not None:
        headers["API-KEY"] = api_key
    request_id = request_trace.request_id()
    if request_id is not None:
        headers["X-Request-ID"] = request_id  # so 1min.ai-side logs can be matched to ours
    return headers


def _operation(method: str, url: str, suffix: str = "") -> str:
    """A bounded metrics label: the method and the first two path segments (ids dropped)."""
    path = "/".join(urlsplit(url).path.split("/")[:3])
    return f"{method} {path}{suffix}"


class _Wait:
    """One wait on 1min.ai: the request's overhead excludes it, the metrics record it."""

    __slots__ = ("operation", "started", "trace")

    def __init__(self, operation: str) -> None:
        self.operation, self.started = operation, time.perf_counter()
        self.trace = request_trace.upstream_started()

    def done(self, status: str) -> None:
        request_trace.upstream_ended(self.trace)
        metrics.observe_upstream(self.operation, status, time.perf_counter() - self.started)


def _raise_for(response: httpx.Response, body: bytes) -> None:
    if response.status_code >= 300:
        raise upstream_error(
            response.status_code, {k.lower(): v for k, v in response.headers.items()}, body
        )


def _decode(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise UpstreamError("1min.ai answered with a body that is not JSON.") from None


def _json_body(payload: Any, headers: dict[str, str]) -> dict[str, Any]:
    headers["Content-Type"] = "application/json"
    return {"content": orjson.dumps(payload), "headers": headers}


async def _send(method: str, url: str, stream: bool = False, **kwargs: Any) -> httpx.Response:
    wait = _Wait(_operation(method, url, ":stream" if stream else ""))
    try:
        response = await _request(method, url, stream=stream, **kwargs)
    except httpx.TimeoutException:
        wait.done("timeout")
        raise UpstreamTimeout("1min.ai did not answer in time.") from None
    except httpx.HTTPError:
        wait.done("error")
        raise UpstreamError("Could not reach 1min.ai.") from None
    except BaseException:  # cancelled: the client went away
        wait.done("cancelled")
        raise
    wait.done(str(response.status_code))
    return response


async def post_json(url: str, api_key: str, payload: dict[str, Any]) -> Any:
    """POST a JSON body and return the decoded JSON answer, or raise the mapped error."""
    response = await _send("POST", url, **_json_body(payload, _headers(api_key)))
    _raise_for(response, response.content)
    return _decode(response.content)


async def get_json(url: str, params: dict[str, str], timeout: float = 10.0) -> Any:
    response = await _send("GET", url, params=params, timeout=_timeout(timeout), headers=_headers(None))
    _raise_for(response, response.content)
    return _decode(response.content)


async def upload_asset(api_key: str, filename: str, data: bytes, content_type: str) -> Any:
    """Upload one file to /api/assets as the multipart part `asset`."""
    response = await _send(
        "POST",
        settings.ONE_MIN_ASSET_URL,
        files={"asset": (filename, data, content_type)},
        headers=_headers(api_key),
    )
    _raise_for(response, response.content)
    return _decode(response.content)


async def fetch_asset(url: str, max_bytes: int) -> tuple[bytes, str]:
    """Download a generated asset from the 1min.ai CDN: (bytes, content type)."""
    wait, status = _Wait("GET asset-download"), "error"
    try:
        response = await _request("GET", url, headers=_headers(None, "*/*"), stream=True)
        try:
            status = str(response.status_code)
            if response.status_code != 200:
                raise UpstreamError(f"The 1min.ai asset store answered HTTP {response.status_code}.")
            chunks = bytearray()
            async for chunk in response.aiter_bytes():
                chunks += chunk
                if len(chunks) > max_bytes:
                    raise UpstreamError("A generated asset is larger than the relay accepts.")
            return bytes(chunks), response.headers.get("content-type", "")
        finally:
            await response.aclose()
    except httpx.TimeoutException:
        status = "timeout"
        raise UpstreamTimeout("The 1min.ai asset store did not answer in time.") from None
    except httpx.HTTPError:
        raise UpstreamError("Could not reach the 1min.ai asset store.") from None
    finally:
        wait.done(status)


class UpstreamStream:
    """An open streaming response; iterate `chunks()` and always `aclose()`."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    async def chunks(self) -> AsyncIterator[bytes]:
        # Time spent waiting for the next chunk is upstream time, not relay overhead.
        raw = self._response.aiter_raw()
        try:
            while True:
                trace = request_trace.upstream_started()
                try:
                    chunk = await anext(raw)
                finally:
                    request_trace.upstream_ended(trace)
                yield chunk
        except StopAsyncIteration:
            return
        except httpx.TimeoutException:
            raise UpstreamTimeout("1min.ai stopped sending the stream.") from None
        except httpx.HTTPError:
            raise UpstreamError("The connection to 1min.ai broke during the stream.") from None

    async def aclose(self) -> None:
        await self._response.aclose()


async def open_stream(url: str, api_key: str, payload: dict[str, Any]) -> UpstreamStream:
    """Start a streaming POST; a non-2xx answer is read whole and raised as the mapped error."""
    response = await _send("POST", url, stream=True, **_json_body(payload, _headers(api_key, "text/event-stream")))
    if response.status_code >= 300:
        try:
            body = await response.aread()
        except httpx.HTTPError:
            body = b""
        finally:
            await response.aclose()
        _raise_for(response, body)
    return UpstreamStream(response)


async def aclose() -> None:
    """Close the shared pool (process shutdown, tests)."""
    global _client, _transport
    if _client is not None:
        await _client.aclose()
    elif _transport is not None:
        await _transport.aclose()
    _client = _transport = None
