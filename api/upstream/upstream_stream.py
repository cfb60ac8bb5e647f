"""An open streamed answer from 1min.ai (the chat event stream, an asset download), read chunk by chunk."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator

import httpx

from api.observability import request_trace
from core.errors import UpstreamError, UpstreamTimeout


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
                # Time spent waiting for the next chunk is upstream time, not relay overhead.
                trace = request_trace.upstream_started()
                try:
                    async with asyncio.timeout(self._idle_timeout):
                        chunk = await anext(pieces)
                except StopAsyncIteration:
                    return
                finally:
                    request_trace.upstream_ended(trace)
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
