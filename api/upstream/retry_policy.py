"""When a failed call to 1min.ai may be sent again, and how long to wait first (pure policy).

1min.ai charges for every call it runs, so a call is retried only when the upstream cannot have
run it: the connection was never made, or a gateway / rate limiter answered in its place.
"""
from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from core.retry_after import parse_retry_after

# 429: the rate limiter refused before the model ran. 502/503: a gateway or an overloaded
# front answered instead of the API. 521/522/523: Cloudflare could not reach the origin at all.
# 500 and 504 are not here: the origin may have run (and billed) the call before failing.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 521, 522, 523})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, Retry-After honoured up to `max_wait`.

    `random`, `clock` and `sleep` are parameters so tests can drive the policy without waiting.
    """

    max_retries: int = 2
    base_delay: float = 0.5
    max_wait: float = 10.0
    random: Callable[[], float] = field(default=random.random, compare=False)
    clock: Callable[[], float] = field(default=time.time, compare=False)
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)

    def retryable_status(self, status: int) -> bool:
        return status in RETRYABLE_STATUSES

    def delay(self, retries_done: int, retry_after: str | None = None) -> float | None:
        """Seconds to wait before retry number `retries_done + 1`, or None to give up now.

        A Retry-After longer than `max_wait` gives up at once: the client gets the 429 (with the
        header) sooner than the relay could usefully wait.
        """
        if retries_done >= self.max_retries:
            return None
        asked = parse_retry_after(retry_after, self.clock())
        if asked is not None:
            return asked if asked <= self.max_wait else None
        ceiling = min(self.max_wait, self.base_delay * (2**retries_done))
        return self.random() * ceiling
