"""Which 1min.ai key a call sends: the caller's own, or a pooled key swapped when 1min.ai refuses it."""
from __future__ import annotations

from typing import Any, Awaitable, Callable, TypeVar

from core.errors import RelayError

T = TypeVar("T")


def pooled(api_key: str) -> bool:
    return getattr(api_key, "lease", None) is not None


async def with_key(api_key: str, payload: dict[str, Any] | None, attempt: Callable[[str], Awaitable[T]]) -> T:
    """Run `attempt` with the key to send. A pooled key (core.upstream_key.LeasedKey) is swapped
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
