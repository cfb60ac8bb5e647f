"""A cap on what 1min.ai may send back: a broken or hostile upstream must not fill the relay's memory."""
from __future__ import annotations

from typing import AsyncIterator

import httpx

from core.errors import UpstreamError


def too_large(limit: int) -> UpstreamError:
    """The error for an answer past the cap (raised here and by the transport's whole-body read)."""
    return UpstreamError(f"1min.ai sent a response larger than the relay accepts ({limit} bytes).")


class CappedBody(httpx.AsyncByteStream):
    """A response body that fails once it passes `limit` bytes: a broken or hostile upstream must
    not fill the relay's memory."""

    def __init__(self, inner: httpx.AsyncByteStream, limit: int) -> None:
        self._inner, self._limit = inner, limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size = 0
        async for part in self._inner:
            size += len(part)
            if size > self._limit:
                raise too_large(self._limit)
            yield part

    async def aclose(self) -> None:
        await self._inner.aclose()


async def read_capped(response: httpx.Response, limit: int) -> None:
    """Read, within `limit`, a body the transport left unread: a streamed call's error body, or any
    answer under httpx's own transport (UPSTREAM_TRANSPORT=httpx), which knows no READ_LIMIT."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    response.stream = CappedBody(response.stream, limit)
    await response.aread()
