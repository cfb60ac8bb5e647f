"""Failed relay-key lookups per client: a client presenting made-up keys is refused (429) before
its guesses reach the database, until a minute after its first failure (RELAY_KEY_FAILED_LOOKUPS_PER_MINUTE)."""
from __future__ import annotations

import math
import time

from django.conf import settings

from core.errors import RateLimited
from keys.shared_state import SharedStateError, state

WINDOW_SECONDS = 60
MAX_REMEMBERED = 10_000  # refused clients remembered by this process; bounds memory under a spray


class FailedLookups:
    """A window counter per client shared by every process (the shared store). A database lookup
    is charged to it *before* it runs and refunded when it finds a key, so concurrent guesses
    cannot slip past the limit; each process remembers which clients are over, so refusing one
    again costs no store access at all."""

    def __init__(self, clock=time.monotonic, window: float = WINDOW_SECONDS) -> None:
        self._clock = clock
        self._window = window
        self._refused_until: dict[str, float] = {}

    def refused(self, client: str) -> bool:
        until = self._refused_until.get(client)
        if until is None:
            return False
        if until <= self._clock():
            del self._refused_until[client]
            return False
        return True

    async def _add(self, client: str, amount: int, refuse_from: int = 0) -> int | None:
        """The client's count after adding `amount`, refusing the client from then on when it
        reaches `refuse_from`; None when unlimited or the store is down."""
        if not settings.RELAY_KEY_FAILED_LOOKUPS_PER_MINUTE or not client:
            return None  # no limit, or a caller that did not say who the client is
        try:
            count, left = await state().count_in_window(f"failed-lookups:{client}", self._window, amount)
        except SharedStateError:
            return None  # per-client rate limits still apply; not worth refusing valid keys over
        if refuse_from and count >= refuse_from:
            if len(self._refused_until) >= MAX_REMEMBERED:
                self._refused_until.clear()
            self._refused_until[client] = self._clock() + left
        return count

    async def charge(self, client: str) -> bool:
        """Count a database lookup about to run; False (do not run it) past the limit."""
        limit = settings.RELAY_KEY_FAILED_LOOKUPS_PER_MINUTE
        count = await self._add(client, 1, refuse_from=limit + 1)
        return count is None or count <= limit

    async def refund(self, client: str) -> None:
        """The charged lookup found a key: it was no failure."""
        await self._add(client, -1)

    async def failed(self, client: str) -> None:
        """Count a failure that needed no database lookup (a malformed key, a cached unknown one);
        the one reaching the limit refuses the client's next keys."""
        await self._add(client, 1, refuse_from=settings.RELAY_KEY_FAILED_LOOKUPS_PER_MINUTE)

    def refusal(self, client: str) -> RateLimited:
        wait = max(1, math.ceil(self._refused_until.get(client, 0.0) - self._clock()))
        return RateLimited(
            f"Too many requests with unknown relay keys from this client; retry in {wait} seconds "
            "with a valid key.",
            code="too_many_failed_key_lookups", headers={"Retry-After": str(wait)},
        )


failed_lookups = FailedLookups()
