"""The 1min.ai key a call sends: its secret, and for a pooled key the lease that may swap it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from core.errors import RelayError


class KeyLease(Protocol):
    """One request's hold on the upstream key pool (implemented by keys.pool)."""

    def authorize(self, payload: dict[str, Any] | None) -> None:
        """Raise PermissionDenied when the payload names a model the caller may not use."""

    async def acquire(self) -> str:
        """The key for the next upstream call of this request (the same one until it fails)."""

    async def failed(self, key: str, error: RelayError) -> str:
        """Another key after `key` failed with `error`, or raise the error the client should see."""

    def succeeded(self, key: str) -> None:
        """Count one upstream call served by `key`."""


@dataclass(frozen=True, slots=True, repr=False)
class UpstreamKey:
    """What a caller's calls send to 1min.ai as API-KEY, carried from keys.callers to the HTTP seam.

    `secret` is the client's own 1min.ai key (passthrough), or the pool's first choice for a relay
    key, whose `lease` api.upstream.key_failover asks for the key to send, and for another one when
    1min.ai answers 401, 402, 429 or an insufficient-credit error before any byte reached the client.
    """

    secret: str
    lease: KeyLease | None = None

    def __repr__(self) -> str:  # never print the key itself (str() and f-strings use this too)
        return f"UpstreamKey(<redacted>{', pooled' if self.lease is not None else ''})"
