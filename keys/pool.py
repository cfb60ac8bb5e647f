"""The pool of 1min.ai keys: which key serves a call, and cool-downs for keys 1min.ai refuses.

Order (UPSTREAM_KEY_POLICY): `round_robin` deals turns from a counter shared by all processes to
the usable keys in id order; `least_recently_used` takes the key whose last use (shared) is oldest.
A key refused with 401/403, 402, 429 or an insufficient-credit error cools down for
UPSTREAM_KEY_COOLDOWN_SECONDS (longer if 1min.ai's Retry-After says so, capped by
UPSTREAM_COOLDOWN_MAX_SECONDS; shorter for the last usable key); the cool-down is shared.
"""
from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from core.errors import AuthenticationFailed, PermissionDenied, RateLimited, RelayError
from core.retry_after import parse_retry_after
from core.redaction import known_secrets
from keys import crypto
from keys.activity import activity
from core.db_thread import run_db
from keys.shared_state import SharedStateError, state

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PoolEntry:
    id: int
    label: str
    fingerprint: str
    secret: str

    def __repr__(self) -> str:
        return f"PoolEntry({self.id}, {self.label!r})"


def cooldown_name(key_id: int) -> str:
    return f"pool:cooldown:{key_id}"


def failure_reason(error: RelayError) -> str | None:
    """Why a failed upstream call is the key's fault (so another key may succeed), or None."""
    code = (error.code or "").upper()
    if isinstance(error, AuthenticationFailed):
        return "rejected"
    if isinstance(error, RateLimited) or error.status == 429:
        return "rate_limited"
    if error.status == 402 or "INSUFFICIENT_CREDIT" in code or error.type == "insufficient_quota":
        return "no_credits"
    return None


def _cooldown_seconds(error: RelayError, now: float, last_key: bool) -> float:
    """UPSTREAM_KEY_COOLDOWN_SECONDS, or 1min.ai's Retry-After (seconds or a date) when longer,
    never over UPSTREAM_COOLDOWN_MAX_SECONDS. The pool's last usable key, refused without a
    Retry-After, rests only UPSTREAM_LAST_KEY_COOLDOWN_SECONDS: benching it would refuse every
    managed client for the whole cool-down over what may be one bad answer."""
    asked = parse_retry_after(error.headers.get("Retry-After"), now)
    seconds = settings.UPSTREAM_KEY_COOLDOWN_SECONDS
    if last_key and asked is None:
        seconds = min(seconds, settings.UPSTREAM_LAST_KEY_COOLDOWN_SECONDS)
    if asked is not None:
        seconds = max(seconds, asked)
    return min(seconds, settings.UPSTREAM_COOLDOWN_MAX_SECONDS)


def _load_entries() -> list[PoolEntry]:
    from keys.models import UpstreamKey

    entries = []
    for key in UpstreamKey.objects.filter(enabled=True).order_by("id"):
        try:
            entries.append(PoolEntry(key.pk, key.label, key.fingerprint, key.secret()))
        except (crypto.UndecryptableKey, crypto.EncryptionUnavailable) as error:
            logger.error("upstream key %s (%s) left out of the pool: %s", key.pk, key.fingerprint, error)
    known_secrets.replace(entry.secret for entry in entries)  # redacted from 1min.ai's error messages
    return entries


class Pool:
    def __init__(self, loader=_load_entries, clock=time.time, monotonic=time.monotonic) -> None:
        self._loader = loader  # a sync function run on a worker thread: the enabled keys
        self._clock, self._monotonic = clock, monotonic
        self._entries: list[PoolEntry] = []
        self._fresh_until = float("-inf")
        self._loading: asyncio.Future | None = None
        self._generation = 0
        self._local_cooldowns: dict[int, float] = {}  # used only when the shared store fails
        self._local_turn = 0

    def mark_stale(self) -> None:
        self._fresh_until = float("-inf")
        self._loading = None  # a load already under way may predate the change
        self._generation += 1

    async def entries(self) -> list[PoolEntry]:
        if self._monotonic() < self._fresh_until:
            return self._entries
        # One load at a time per process; concurrent callers share it.
        if self._loading is None or self._loading.done():
            self._loading = asyncio.ensure_future(run_db(self._loader))
        generation = self._generation
        entries = await asyncio.shield(self._loading)
        if generation == self._generation:
            self._entries = entries
            self._fresh_until = self._monotonic() + settings.RELAY_KEY_CACHE_SECONDS
        return entries

    async def cooling(self, entries: list[PoolEntry]) -> dict[int, float]:
        """Cooling keys: id → epoch second the cool-down ends."""
        now = self._clock()
        try:
            values = await state().get_many([cooldown_name(e.id) for e in entries])
        except SharedStateError:
            return {k: until for k, until in self._local_cooldowns.items() if until > now}
        cooling = {}
        for entry, value in zip(entries, values):
            if value:
                until = float(value.partition("|")[0])
                if until > now:
                    cooling[entry.id] = until
        return cooling

    def now(self) -> float:
        return self._clock()

    async def others_usable(self, entry: PoolEntry) -> bool:
        """Whether a key other than `entry` may serve calls now (enabled, not cooling)."""
        entries = await self.entries()
        cooling = await self.cooling(entries)
        return any(e.id != entry.id and e.id not in cooling for e in entries)

    async def choose(self, exclude: set[int]) -> PoolEntry | None:
        entries = await self.entries()
        cooling = await self.cooling(entries)
        healthy = [e for e in entries if e.id not in exclude and e.id not in cooling]
        if not healthy:
            return None
        if settings.UPSTREAM_KEY_POLICY == "least_recently_used":
            return await self._least_recently_used(healthy)
        return await self._round_robin(healthy)

    async def _round_robin(self, healthy: list[PoolEntry]) -> PoolEntry:
        # Turns are shared; the usable keys share them evenly (a cooling key's turns are spread).
        try:
            turn = await state().incr("pool:turn")
        except SharedStateError:
            self._local_turn += 1
            turn = self._local_turn
        return healthy[(turn - 1) % len(healthy)]

    async def _least_recently_used(self, healthy: list[PoolEntry]) -> PoolEntry:
        try:
            lasts = await state().get_many([f"pool:last:{e.id}" for e in healthy])
        except SharedStateError:
            lasts = [None] * len(healthy)
        chosen = min(zip(healthy, lasts), key=lambda pair: (float(pair[1] or 0), pair[0].id))[0]
        try:
            await state().set(f"pool:last:{chosen.id}", repr(self._clock()))
        except SharedStateError:
            pass
        return chosen

    async def cool_down(self, entry: PoolEntry, reason: str, seconds: float) -> None:
        until = self._clock() + seconds
        self._local_cooldowns[entry.id] = until
        logger.warning("upstream key %s (%s) cools down %.0fs: %s", entry.id, entry.label, seconds, reason)
        try:
            await state().set(cooldown_name(entry.id), f"{until}|{reason}", seconds)
        except SharedStateError:
            pass

    def first_secret(self) -> str:
        """A likely key from this process's copy of the pool, without taking a turn."""
        return self._entries[0].secret if self._entries else ""

    async def exhausted(self, last_error: RelayError | None) -> RelayError:
        """The error a client sees when no key of the pool may serve its call."""
        entries = await self.entries()
        if not entries:
            return RelayError(
                "This relay has no 1min.ai key to serve the request; its operator must add one.",
                status=503, type="api_error", code="no_upstream_key",
            )
        cooling = await self.cooling(entries)
        waits = [until - self._clock() for until in cooling.values()]
        retry_after = max(1, math.ceil(min(waits))) if waits else 1
        why = f" (last refusal: {failure_reason(last_error)})" if last_error is not None else ""
        return RelayError(
            "Every 1min.ai key of this relay is cooling down after 1min.ai refused it for rate "
            f"limits, credits or authentication{why}. Retry after {retry_after} seconds.",
            status=503, type="api_error", code="upstream_keys_unavailable",
            headers={"Retry-After": str(retry_after)},
        )


class PoolLease:
    """One request's hold on the pool; it sticks to one key until 1min.ai refuses that key.

    Calls of one request may run concurrently (several image uploads): they share the key, and
    when one of them fails over the others follow instead of taking keys of their own.
    """

    def __init__(self, pool: Pool, allowed_models: tuple[str, ...]) -> None:
        self._pool = pool
        self._allowed = allowed_models
        self._current: PoolEntry | None = None
        self._tried: set[int] = set()
        self._lock = asyncio.Lock()

    def authorize(self, payload: dict[str, Any] | None) -> None:
        model = payload.get("model") if isinstance(payload, dict) else None
        if self._allowed and isinstance(model, str) and model not in self._allowed:
            raise model_not_allowed(model)

    async def acquire(self) -> str:
        async with self._lock:
            if self._current is None:
                entry = await self._pool.choose(self._tried)
                if entry is None:
                    raise await self._pool.exhausted(None)
                self._current = entry
            return self._current.secret

    async def failed(self, key: str, error: RelayError) -> str:
        reason = failure_reason(error)
        if reason is None:
            raise error
        async with self._lock:
            entry = self._current
            if entry is not None and entry.secret != key:
                return entry.secret  # a concurrent call of this request already moved on
            if entry is None:
                raise error
            last_key = not await self._pool.others_usable(entry)
            await self._pool.cool_down(entry, reason, _cooldown_seconds(error, self._pool.now(), last_key))
            activity.upstream_failed(entry.id, reason)
            self._tried.add(entry.id)
            self._current = await self._pool.choose(self._tried)
            if self._current is None:
                raise await self._pool.exhausted(error)
            return self._current.secret

    def succeeded(self, key: str) -> None:
        if self._current is not None:
            activity.upstream_used(self._current.id)


def model_not_allowed(model: str) -> PermissionDenied:
    return PermissionDenied(
        f"This relay key may not use the model `{model}`.", param="model", code="model_not_allowed"
    )


pool = Pool()
