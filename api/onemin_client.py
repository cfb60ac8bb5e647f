"""The one seam for HTTP to 1min.ai: a shared httpx.AsyncClient, timeouts and error mapping."""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar

import httpx
from django.conf import settings

from api.errors import RelayError, UpstreamError, UpstreamTimeout
from api.retry_policy import RetryPolicy
from api.translators.upstream_errors import upstream_error

logger = logging.getLogger(__name__)
T = TypeVar("T")

_client: httpx.AsyncClient | None = None
_client_loop: asyncio.AbstractEventLoop | None = None
# Tests replace the transport here (and only here) to put a fake upstream behind the seam.
transport_override: httpx.AsyncBaseTransport | None = None
# Tests replace the policy (its sleep and random) so retries are checked without waiting.
retry_policy_override: RetryPolicy | None = None

# Failures where no request reached 1min.ai: safe to send again even though calls are billed.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


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
    return headers


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


def retry_policy() -> RetryPolicy:
    if retry_policy_override is not None:
        return retry_policy_override
    return RetryPolicy(
        max_retries=settings.UPSTREAM_MAX_RETRIES,
        base_delay=settings.UPSTREAM_RETRY_BASE_DELAY,
        max_wait=settings.UPSTREAM_RETRY_MAX_WAIT,
    )


async def _send(
    method: str, url: str, *, stream: bool = False, follow_redirects: bool = False,
    retry_rate_limit: bool = True, **kwargs: Any,
) -> httpx.Response:
    """Send one request, retrying only failures where 1min.ai cannot have run (and billed) it.

    Retried: no connection could be made, or a 429/502/503/52x came back. Never retried: a
    timeout or a break after the request was sent, or anything once a 2xx began (for streams,
    nothing has reached our client until this returns). A pooled key's 429 is not retried here:
    the call moves to another key at once (`_keyed`).
    """
    policy = retry_policy()
    http = client()
    retries = 0
    while True:
        request = http.build_request(method, url, **kwargs)
        try:
            response = await http.send(request, stream=stream, follow_redirects=follow_redirects)
        except _NOT_SENT as exc:
            wait = policy.delay(retries)
            if wait is None:
                if isinstance(exc, httpx.TimeoutException):
                    raise UpstreamTimeout("1min.ai could not be reached in time.") from None
                raise UpstreamError("Could not reach 1min.ai.") from None
            reason = type(exc).__name__
        except httpx.TimeoutException:
            raise UpstreamTimeout("1min.ai did not answer in time.") from None
        except httpx.HTTPError:
            raise UpstreamError("Could not reach 1min.ai.") from None
        else:
            if not policy.retryable_status(response.status_code) or (
                response.status_code == 429 and not retry_rate_limit
            ):
                return response
            wait = policy.delay(retries, response.headers.get("retry-after"))
            if wait is None:
                return response  # the caller maps it to the client's error (Retry-After kept)
            reason = f"HTTP {response.status_code}"
            await response.aclose()
        retries += 1
        logger.warning(
            "1min.ai %s %s failed (%s); retry %d of %d in %.2fs",
            method, request.url.path, reason, retries, policy.max_retries, wait,
        )
        await policy.sleep(wait)


def _pooled(api_key: str) -> bool:
    return getattr(api_key, "lease", None) is not None


async def _keyed(api_key: str, payload: dict[str, Any] | None, attempt: Callable[[str], Awaitable[T]]) -> T:
    """Run `attempt` with the key to send. A pooled key (api.upstream_key.LeasedKey) is swapped
    for another one when 1min.ai refuses it; the lease decides which failures qualify."""
    lease = getattr(api_key, "lease", None)
    if lease is None:
        return await attempt(api_key)
    lease.authorize(payload)
    key = await lease.acquire()
    while True:
        try:
            result = await attempt(key)
        except RelayError as error:
            key = await lease.failed(key, error)  # raises when no other key may be tried
            continue
        lease.succeeded(key)
        return result


async def post_json(url: str, api_key: str, payload: dict[str, Any]) -> Any:
    """POST a JSON body and return the decoded JSON answer, or raise the mapped error."""

    async def attempt(key: str) -> httpx.Response:
        response = await _send("POST", url, json=payload, headers=_headers(key),
                               retry_rate_limit=not _pooled(api_key))
        _raise_for(response, response.content)
        return response

    response = await _keyed(api_key, payload, attempt)
    return _decode(response.content)


async def get_json(url: str, params: dict[str, str], timeout: float = 10.0) -> Any:
    response = await _send("GET", url, params=params, timeout=_timeout(timeout))
    _raise_for(response, response.content)
    return _decode(response.content)


async def upload_asset(api_key: str, filename: str, data: bytes, content_type: str) -> Any:
    """Upload one file to /api/assets as the multipart part `asset`."""

    async def attempt(key: str) -> httpx.Response:
        response = await _send(
            "POST",
            settings.ONE_MIN_ASSET_URL,
            files={"asset": (filename, data, content_type)},
            headers=_headers(key),
            retry_rate_limit=not _pooled(api_key),
        )
        _raise_for(response, response.content)
        return response

    response = await _keyed(api_key, None, attempt)
    return _decode(response.content)


async def fetch_asset(url: str, max_bytes: int) -> tuple[bytes, str]:
    """Download a generated asset from the 1min.ai CDN: (bytes, content type)."""
    try:
        # Signed storage URLs may redirect between buckets; they come from 1min.ai, not clients.
        response = await _send("GET", url, stream=True, follow_redirects=True)
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


class UpstreamStream:
    """An open streaming response; iterate `chunks()` and always `aclose()`."""

    def __init__(self, response: httpx.Response, idle_timeout: float, decoded: bool = False) -> None:
        self._response = response
        self._idle_timeout = idle_timeout
        self._decoded = decoded  # undo any Content-Encoding (files), or pass bytes raw (SSE)

    @property
    def headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self._response.headers.items()}

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body; a silence longer than the idle timeout ends it with UpstreamTimeout."""
        pieces = self._response.aiter_bytes() if self._decoded else self._response.aiter_raw()
        try:
            while True:
                try:
                    async with asyncio.timeout(self._idle_timeout):
                        chunk = await anext(pieces)
                except StopAsyncIteration:
                    return
                yield chunk
        except (TimeoutError, httpx.TimeoutException):
            raise UpstreamTimeout(
                f"1min.ai stopped sending the stream (nothing for {self._idle_timeout:g}s)."
            ) from None
        except httpx.HTTPError:
            raise UpstreamError("The connection to 1min.ai broke during the stream.") from None
        finally:
            await pieces.aclose()

    async def aclose(self) -> None:
        await self._response.aclose()


async def open_stream(url: str, api_key: str, payload: dict[str, Any]) -> UpstreamStream:
    """Start a streaming POST; a non-2xx answer is read whole and raised as the mapped error.

    Retries (see `_send`) and pool failover (`_keyed`) happen only here, before the stream is
    handed to the caller.
    """
    pooled = _pooled(api_key)
    return await _keyed(api_key, payload, lambda key: _open_stream(url, key, payload, pooled))


async def _open_stream(url: str, api_key: str, payload: dict[str, Any], pooled: bool) -> UpstreamStream:
    response = await _send(
        "POST", url, stream=True, json=payload, headers=_headers(api_key, "text/event-stream"),
        retry_rate_limit=not pooled,
    )
    if response.status_code >= 300:
        try:
            body = await response.aread()
        except httpx.HTTPError:
            body = b""
        finally:
            await response.aclose()
        _raise_for(response, body)
    return UpstreamStream(response, _idle_timeout())


def _idle_timeout() -> float:
    return settings.UPSTREAM_STREAM_IDLE_TIMEOUT or settings.UPSTREAM_READ_TIMEOUT


async def open_asset(url: str) -> UpstreamStream:
    """Start downloading a generated asset (signed temporary URL or CDN) for streaming it on."""
    response = await _send("GET", url, stream=True, follow_redirects=True)
    if response.status_code != 200:
        await response.aclose()
        raise UpstreamError(f"The 1min.ai asset store answered HTTP {response.status_code}.")
    return UpstreamStream(response, _idle_timeout(), decoded=True)


async def aclose() -> None:
    """Close the shared client (process shutdown, tests)."""
    global _client
    if _client is not None:
        await _client.aclose()
        _client = None
