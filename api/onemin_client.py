"""The one seam for HTTP to 1min.ai: a shared httpx.AsyncClient, timeouts and error mapping."""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any, AsyncIterator
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from api import metrics, request_trace
from api.errors import UpstreamError, UpstreamTimeout
from api.translators.upstream_errors import upstream_error

_client: httpx.AsyncClient | None = None
_client_loop: asyncio.AbstractEventLoop | None = None
# Tests replace the transport here (and only here) to put a fake upstream behind the seam.
transport_override: httpx.AsyncBaseTransport | None = None


def _timeout(read: float | None = None) -> httpx.Timeout:
    return httpx.Timeout(
        connect=settings.UPSTREAM_CONNECT_TIMEOUT,
        read=read if read is not None else settings.UPSTREAM_READ_TIMEOUT,
        write=settings.UPSTREAM_READ_TIMEOUT,
        pool=settings.UPSTREAM_CONNECT_TIMEOUT,
    )


def client() -> httpx.AsyncClient:
    """The process's client, made on first use in the running loop (one loop per daphne process)."""
    global _client, _client_loop
    loop = asyncio.get_running_loop()
    if _client is None or _client_loop is not loop or _client.is_closed:
        limits = httpx.Limits(
            max_connections=settings.UPSTREAM_MAX_CONNECTIONS,
            max_keepalive_connections=settings.UPSTREAM_MAX_CONNECTIONS,
        )
        _client = httpx.AsyncClient(
            timeout=_timeout(), limits=limits, transport=transport_override, follow_redirects=False
        )
        _client_loop = loop
    return _client


def _headers(api_key: str | None, accept: str = "application/json") -> dict[str, str]:
    headers = {"Accept": accept}
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
        return json.loads(body)
    except ValueError:
        raise UpstreamError("1min.ai answered with a body that is not JSON.") from None


async def _send(method: str, url: str, **kwargs: Any) -> httpx.Response:
    wait = _Wait(_operation(method, url))
    try:
        response = await client().request(method, url, **kwargs)
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
    response = await _send("POST", url, json=payload, headers=_headers(api_key))
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
        async with client().stream("GET", url, headers=_headers(None, "*/*")) as response:
            status = str(response.status_code)
            if response.status_code != 200:
                raise UpstreamError(f"The 1min.ai asset store answered HTTP {response.status_code}.")
            chunks = bytearray()
            async for chunk in response.aiter_bytes():
                chunks += chunk
                if len(chunks) > max_bytes:
                    raise UpstreamError("A generated asset is larger than the relay accepts.")
            return bytes(chunks), response.headers.get("content-type", "")
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
    http = client()
    request = http.build_request(
        "POST", url, json=payload, headers=_headers(api_key, "text/event-stream")
    )
    wait = _Wait(_operation("POST", url, ":stream"))
    try:
        response = await http.send(request, stream=True)
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
    """Close the shared client (process shutdown, tests)."""
    global _client
    if _client is not None:
        await _client.aclose()
        _client = None
