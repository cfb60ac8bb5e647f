"""A 1min.ai key drawn from a pool: the HTTP seam may swap it when 1min.ai refuses it."""
from __future__ import annotations

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


class LeasedKey(str):
    """A str (the pool's first choice, so code that only forwards it still works) with its lease.

    api.upstream.onemin_client asks the lease for the key to send, and for another one when 1min.ai
    answers 401, 402, 429 or an insufficient-credit error, before any byte reached the client.
    """

    lease: KeyLease

    def __new__(cls, value: str, lease: KeyLease) -> "LeasedKey":
        instance = super().__new__(cls, value)
        instance.lease = lease
        return instance

    def __repr__(self) -> str:  # never print the key itself
        return "LeasedKey(<redacted>)"
