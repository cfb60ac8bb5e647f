"""Failed relay-key lookups per client: a client presenting made-up keys is refused (429) before
its guesses reach the database, for the rest of the minute (RELAY_KEY_FAILED_LOOKUPS_PER_MINUTE)."""
from __future__ import annotations

import math
import time

from django.conf import settings

from api.errors import RateLimited
from keys.shared_state import SharedStateError, state

WINDOW_SECONDS = 60
MAX_REMEMBERED = 10_000  # refused clients remembered by this process; bounds memory under a spray


class FailedLookups:
    """A window counter per client shared by every process (the shared store). A database lookup
    is charged to it *before* it runs and refunded when it finds a key, so concurrent guesses
    cannot slip past the limit; each process remembers which clients are over, so refusing one
    again costs no store access at all."""

    def __init__(self, clock=time.time) -> None:
        self._clock = clock
        self._refused_until: dict[str, float] = {}

    def refused(self, client: str) -> bool:
        until = self._refused_until.get(client)
        if until is None:
            return False
        if until <= self._clock():
            del self._refused_until[client]
            return False
        return True

    def _name(self, client: str) -> str:
        return f"failed-lookups:{int(self._clock() // WINDOW_SECONDS)}:{client}"

    async def _add(self, client: str, amount: int) -> int | None:
        """The client's count after adding `amount`; None when unlimited or the store is down."""
        limit = settings.RELAY_KEY_FAILED_LOOKUPS_PER_MINUTE
        if not limit:
            return None
        name = self._name(client)
        try:
            count = await state().incr(name, ttl=WINDOW_SECONDS, by=amount)
        except SharedStateError:
            return None  # per-client rate limits still apply; not worth refusing valid keys over
        if amount > 0 and count > limit:
            self._refuse(client)
        return count

    def _refuse(self, client: str) -> None:
        if len(self._refused_until) >= MAX_REMEMBERED:
            self._refused_until.clear()
        self._refused_until[client] = (int(self._clock() // WINDOW_SECONDS) + 1) * WINDOW_SECONDS

    async def charge(self, client: str) -> bool:
        """Count a database lookup about to run; False (do not run it) past the limit."""
        count = await self._add(client, 1)
        return count is None or count <= settings.RELAY_KEY_FAILED_LOOKUPS_PER_MINUTE

    async def refund(self, client: str) -> None:
        """The charged lookup found a key: it was no failure."""
        await self._add(client, -1)

    async def failed(self, client: str) -> None:
        """Count a failure that needed no database lookup (a malformed key, a cached unknown one);
        past the limit the client is refused from its next key on."""
        count = await self._add(client, 1)
        if count is not None and count >= settings.RELAY_KEY_FAILED_LOOKUPS_PER_MINUTE:
            self._refuse(client)

    def refusal(self, client: str) -> RateLimited:
        until = self._refused_until.get(client) or (int(self._clock() // WINDOW_SECONDS) + 1) * WINDOW_SECONDS
        wait = max(1, math.ceil(until - self._clock()))
        return RateLimited(
            f"Too many requests with unknown relay keys from this client; retry in {wait} seconds "
            "with a valid key.",
            code="too_many_failed_key_lookups", headers={"Retry-After": str(wait)},
        )


failed_lookups = FailedLookups()
