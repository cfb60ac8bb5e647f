"""The one seam for HTTP to 1min.ai: a shared connection pool, timeouts, retries and error mapping.

Requests go straight to the transport (api/upstream/onemin_transport.py: aiohttp behind httpx's interface):
httpx.AsyncClient's per-request work (cookie jar, auth and redirect flows, URL merging) bought
nothing here and cost CPU on every call. The client is kept for the one thing that needs it,
following redirects of asset URLs.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import Any, AsyncIterator
from urllib.parse import urlsplit

import httpx
import orjson
from django.conf import settings

from api import large_json
from api.observability import metrics, request_trace

from core import redaction
from core.errors import RelayError, UpstreamError, UpstreamTimeout
from core.upstream_key import UpstreamKey
from api.upstream import key_failover, onemin_transport
from api.upstream.onemin_transport import READ_LIMIT
from api.upstream.response_cap import read_capped
from api.upstream.upstream_stream import UpstreamStream
from api.upstream.retry_policy import RetryPolicy
from api.translators.upstream_errors import upstream_error

logger = logging.getLogger(__name__)

_client: httpx.AsyncClient | None = None
_client_loop: asyncio.AbstractEventLoop | None = None
_transport: httpx.AsyncBaseTransport | None = None
_transport_loop: asyncio.AbstractEventLoop | None = None
# Tests replace the transport here (and only here) to put a fake upstream behind the seam.
transport_override: httpx.AsyncBaseTransport | None = None
# Tests replace the policy (its sleep and random) so retries are checked without waiting.
retry_policy_override: RetryPolicy | None = None

# Failures where no request reached 1min.ai: safe to send again even though calls are billed.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_USER_AGENT = f"1min-relay/{settings.VERSION}"


def _timeout(read: float | None = None) -> httpx.Timeout:
    return httpx.Timeout(
        connect=settings.UPSTREAM_CONNECT_TIMEOUT,
        read=read if read is not None else settings.UPSTREAM_READ_TIMEOUT,
        write=settings.UPSTREAM_READ_TIMEOUT,
        pool=settings.UPSTREAM_CONNECT_TIMEOUT,
    )


def transport() -> httpx.AsyncBaseTransport:
    """The process's connection pool, made on first use in the running loop (one per daphne process)."""
    global _transport, _transport_loop
    if transport_override is not None:
        return transport_override
    loop = asyncio.get_running_loop()
    if _transport is None or _transport_loop is not loop:
        _transport = onemin_transport.build(
            settings.UPSTREAM_TRANSPORT,
            max_connections=settings.UPSTREAM_MAX_CONNECTIONS,
            max_keepalive=settings.UPSTREAM_KEEPALIVE_CONNECTIONS,
        )
        _transport_loop = loop
    return _transport


def client() -> httpx.AsyncClient:
    """An httpx client over the same pool, for what needs httpx's conveniences (redirects)."""
    global _client, _client_loop
    loop = asyncio.get_running_loop()
    if _client is None or _client_loop is not loop or _client.is_closed:
        _client = httpx.AsyncClient(timeout=_timeout(), transport=transport(), follow_redirects=False)
        _client_loop = loop
    return _client


def _headers(secret: str | None, accept: str = "application/json") -> dict[str, str]:
    headers = {"Accept": accept, "User-Agent": _USER_AGENT}
    if secret is not None:
        headers["API-KEY"] = secret
    request_id = request_trace.request_id()
    if request_id is not None:
        headers["X-Request-ID"] = request_id  # so 1min.ai-side logs can be matched to ours
    return headers


def _json_body(content: bytes, headers: dict[str, str]) -> dict[str, Any]:
    headers["Content-Type"] = "application/json"
    if len(content) > large_json.LARGE_BYTES:
        headers["Content-Length"] = str(len(content))
        return {"content": _Pieces(content), "headers": headers}
    return {"content": content, "headers": headers}


class _Pieces:
    """A large request body sent a piece at a time (with its Content-Length, so the same bytes go
    out): handed over whole, the transport copied all of it at once on the event loop (30 ms for
    19 MB). Iterable again for each retry."""

    SIZE = 256 * 1024

    def __init__(self, content: bytes) -> None:
        self._content = content

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self._content), self.SIZE):
            yield self._content[start:start + self.SIZE]


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


async def _error_for(response: httpx.Response, body: bytes) -> RelayError:
    """The error a non-2xx answer maps to. Callers await it only for a non-2xx status, and a body
    over LARGE_BYTES (1min.ai may echo a prompt of megabytes) is read on a worker thread; a smaller
    one inline, where a thread hop would cost more than reading it."""
    headers = {k.lower(): v for k, v in response.headers.items()}
    if len(body) > large_json.LARGE_BYTES:
        error = await asyncio.to_thread(upstream_error, response.status_code, headers, body)
    else:
        error = upstream_error(response.status_code, headers, body)
    # 1min.ai may quote the key it was sent (the caller's or a pool key): never pass it on.
    try:
        sent_key = response.request.headers.get("api-key")
    except RuntimeError:  # a response built without its request (tests of the seam)
        sent_key = None
    error.message = redaction.redact(error.message, (sent_key,))
    return error


async def _decode(body: bytes) -> Any:
    try:
        return await large_json.loads_async(body)  # 1min.ai echoes the prompt: maybe megabytes
    except orjson.JSONDecodeError:
        raise UpstreamError("1min.ai answered with a body that is not JSON.") from None


def retry_policy() -> RetryPolicy:
    if retry_policy_override is not None:
        return retry_policy_override
    return RetryPolicy(
        max_retries=settings.UPSTREAM_MAX_RETRIES,
        base_delay=settings.UPSTREAM_RETRY_BASE_DELAY,
        max_wait=settings.UPSTREAM_RETRY_MAX_WAIT,
    )


@functools.lru_cache(maxsize=256)
def _parsed(url: str) -> httpx.URL:
    # Nearly every call goes to one of a few 1min.ai URLs: parsed once (httpx.URL is immutable),
    # not on each request.
    return httpx.URL(url)


async def _request(method: str, url: str, *, stream: bool, follow_redirects: bool,
                   timeout: httpx.Timeout | None = None, **build: Any) -> httpx.Response:
    """One attempt; the body is read (and the connection released) unless `stream`."""
    if follow_redirects:
        http = client()
        request = http.build_request(method, url, timeout=timeout or _timeout(), **build)
        return await http.send(request, stream=stream, follow_redirects=True)
    extensions: dict[str, Any] = {"timeout": (timeout or _timeout()).as_dict()}
    if not stream:  # our transport reads the body whole, within the cap (onemin_transport.READ_LIMIT)
        extensions[READ_LIMIT] = settings.UPSTREAM_MAX_RESPONSE_BYTES
    request = httpx.Request(method, _parsed(url), extensions=extensions, **build)
    response = await transport().handle_async_request(request)
    response.request = request
    if not stream and not response.is_stream_consumed:
        try:
            await read_capped(response, settings.UPSTREAM_MAX_RESPONSE_BYTES)
        except BaseException:
            await response.aclose()
            raise
    return response


async def _send(
    method: str, url: str, *, stream: bool = False, follow_redirects: bool = False,
    retry_rate_limit: bool = True, operation: str | None = None, **kwargs: Any,
) -> httpx.Response:
    """Send one request, retrying only failures where 1min.ai cannot have run (and billed) it.

    Retried: no connection could be made, or a 429/502/503/52x came back. Never retried: a
    timeout or a break after the request was sent, or anything once a 2xx began (for streams,
    nothing has reached our client until this returns). A pooled key's 429 is not retried here:
    the call moves to another key at once (`key_failover.with_key`).
    """
    policy = retry_policy()
    operation = operation or _operation(method, url, ":stream" if stream else "")
    retries = 0
    while True:
        wait = _Wait(operation)
        try:
            response = await _request(method, url, stream=stream, follow_redirects=follow_redirects, **kwargs)
        except _NOT_SENT as exc:
            wait.done("timeout" if isinstance(exc, httpx.TimeoutException) else "error")
            delay = policy.delay(retries)
            if delay is None:
                if isinstance(exc, httpx.TimeoutException):
                    raise UpstreamTimeout("1min.ai could not be reached in time.") from None
                raise UpstreamError("Could not reach 1min.ai.") from None
            reason = type(exc).__name__
        except httpx.TimeoutException:
            wait.done("timeout")
            raise UpstreamTimeout("1min.ai did not answer in time.") from None
        except httpx.HTTPError:
            wait.done("error")
            raise UpstreamError("Could not reach 1min.ai.") from None
        except BaseException:  # cancelled: the client went away
            wait.done("cancelled")
            raise
        else:
            wait.done(str(response.status_code))
            if not policy.retryable_status(response.status_code) or (
                response.status_code == 429 and not retry_rate_limit
            ):
                return response
            delay = policy.delay(retries, response.headers.get("retry-after"))
            if delay is None:
                return response  # the caller maps it to the client's error (Retry-After kept)
            reason = f"HTTP {response.status_code}"
            await response.aclose()
        retries += 1
        logger.warning(
            "1min.ai %s %s failed (%s); retry %d of %d in %.2fs",
            method, urlsplit(url).path, reason, retries, policy.max_retries, delay,
        )
        backoff = request_trace.upstream_started()  # waiting on 1min.ai's trouble, not relay work
        try:
            await policy.sleep(delay)
        finally:
            request_trace.upstream_ended(backoff)


async def post_json(url: str, key: UpstreamKey, payload: dict[str, Any]) -> Any:
    """POST a JSON body and return the decoded JSON answer, or raise the mapped error."""
    content = await large_json.dumps_async(payload)  # encoded once, whatever the retries

    async def attempt(secret: str) -> httpx.Response:
        response = await _send("POST", url, retry_rate_limit=key.lease is None,
                               **_json_body(content, _headers(secret)))
        if response.status_code >= 300:
            raise await _error_for(response, response.content)
        return response

    response = await key_failover.with_key(key, payload, attempt)
    return await _decode(response.content)


async def get_json(url: str, params: dict[str, str], timeout: float = 10.0) -> Any:
    response = await _send("GET", url, params=params, timeout=_timeout(timeout), headers=_headers(None))
    if response.status_code >= 300:
        raise await _error_for(response, response.content)
    return await _decode(response.content)


async def upload_asset(key: UpstreamKey, filename: str, data: bytes, content_type: str) -> Any:
    """Upload one file to /api/assets as the multipart part `asset`."""

    async def attempt(secret: str) -> httpx.Response:
        response = await _send(
            "POST",
            settings.ONE_MIN_ASSET_URL,
            files={"asset": (filename, data, content_type)},
            headers=_headers(secret),
            retry_rate_limit=key.lease is None,
        )
        if response.status_code >= 300:
            raise await _error_for(response, response.content)
        return response

    response = await key_failover.with_key(key, None, attempt)
    return await _decode(response.content)


async def fetch_asset(url: str, max_bytes: int) -> tuple[bytes, str]:
    """Download a generated asset from the 1min.ai CDN: (bytes, content type)."""
    try:
        # Signed storage URLs may redirect between buckets; they come from 1min.ai, not clients.
        response = await _send("GET", url, stream=True, follow_redirects=True,
                               headers=_headers(None, "*/*"), operation="GET asset")
        try:
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
        raise UpstreamTimeout("The 1min.ai asset store did not answer in time.") from None
    except httpx.HTTPError:
        raise UpstreamError("Could not reach the 1min.ai asset store.") from None


async def open_stream(url: str, key: UpstreamKey, payload: dict[str, Any]) -> UpstreamStream:
    """Start a streaming POST; a non-2xx answer is read whole and raised as the mapped error.

    Retries (see `_send`) and pool failover (`key_failover.with_key`) happen only here, before the stream is
    handed to the caller.
    """
    pooled = key.lease is not None
    content = await large_json.dumps_async(payload)
    return await key_failover.with_key(key, payload, lambda secret: _open_stream(url, secret, content, pooled))


async def _open_stream(url: str, secret: str, content: bytes, pooled: bool) -> UpstreamStream:
    response = await _send("POST", url, stream=True, retry_rate_limit=not pooled,
                           **_json_body(content, _headers(secret, "text/event-stream")))
    if response.status_code >= 300:
        try:
            await read_capped(response, settings.UPSTREAM_MAX_RESPONSE_BYTES)  # an error body has the answer's cap
            body = response.content
        except httpx.HTTPError:
            body = b""
        finally:
            await response.aclose()
        raise await _error_for(response, body)
    return UpstreamStream(response, _idle_timeout())


def _idle_timeout() -> float:
    return settings.UPSTREAM_STREAM_IDLE_TIMEOUT or settings.UPSTREAM_READ_TIMEOUT


async def open_asset(url: str) -> UpstreamStream:
    """Start downloading a generated asset (signed temporary URL or CDN) for streaming it on."""
    response = await _send("GET", url, stream=True, follow_redirects=True,
                           headers=_headers(None, "*/*"), operation="GET asset:stream")
    if response.status_code != 200:
        await response.aclose()
        raise UpstreamError(f"The 1min.ai asset store answered HTTP {response.status_code}.")
    return UpstreamStream(response, _idle_timeout(), decoded=True)


async def aclose() -> None:
    """Close the shared pool (process shutdown, tests)."""
    global _client, _transport
    if _client is not None:
        await _client.aclose()  # closes its transport too
    elif _transport is not None:
        await _transport.aclose()
    _client = _transport = None
