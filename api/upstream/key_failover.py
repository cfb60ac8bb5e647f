"""Which 1min.ai key a call sends: the caller's own, or a pooled key swapped when 1min.ai refuses it."""
from __future__ import annotations

from typing import Any, Awaitable, Callable, TypeVar

from core.errors import RelayError
from core.upstream_key import UpstreamKey

T = TypeVar("T")


async def with_key(key: UpstreamKey, payload: dict[str, Any] | None, attempt: Callable[[str], Awaitable[T]]) -> T:
    """Run `attempt` with the secret to send. A pooled key (one with a lease) is swapped for
    another one when 1min.ai refuses it; the lease decides which failures qualify."""
    lease = key.lease
    if lease is None:
        return await attempt(key.secret)
    lease.authorize(payload)
    secret = await lease.acquire()
    while True:
        try:
            result = await attempt(secret)
        except RelayError as error:
            secret = await lease.failed(secret, error)  # raises when no other key may be tried
            continue
        lease.succeeded(secret)
        return result
