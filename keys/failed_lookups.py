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
    """Counts failures in a window shared by every process (the shared store); each process
    remembers on its own which clients are over, so refusing one costs no store access at all."""

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

    async def failed(self, client: str) -> None:
        """Count one failed lookup; past the limit, refuse the client until its window ends."""
        limit = settings.RELAY_KEY_FAILED_LOOKUPS_PER_MINUTE
        if not limit:
            return
        now = self._clock()
        window = int(now // WINDOW_SECONDS)
        try:
            count = await state().incr(f"failed-lookups:{window}:{client}", ttl=WINDOW_SECONDS)
        except SharedStateError:
            return  # per-IP rate limits still apply; the store is down, not worth failing over
        if count >= limit:
            if len(self._refused_until) >= MAX_REMEMBERED:
                self._refused_until.clear()
            self._refused_until[client] = (window + 1) * WINDOW_SECONDS

    def refusal(self, client: str) -> RateLimited:
        wait = max(1, math.ceil(self._refused_until.get(client, 0) - self._clock()))
        return RateLimited(
            f"Too many requests with unknown relay keys from this client; retry in {wait} seconds "
            "with a valid key.",
            code="too_many_failed_key_lookups", headers={"Retry-After": str(wait)},
        )


failed_lookups = FailedLookups()
