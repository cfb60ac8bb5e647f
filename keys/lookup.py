"""Relay key lookup by hash: process memory, then the shared store, then SQL, each short-lived.

Positive and negative answers are cached. Entries in the shared store are named by the change
counter (keys.shared_state.VERSION), so a change made anywhere retires them everywhere.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from typing import Awaitable, Callable

from django.conf import settings

from core.db_thread import run_db
from keys.shared_state import SharedStateError, state

logger = logging.getLogger(__name__)

MAX_MEMORY_ENTRIES = 10_000  # bounds memory when someone sprays made-up keys
_MISSING = "missing"


@dataclass(frozen=True)
class KeyRecord:
    """What the request path needs to know about a relay key (never the key itself)."""

    id: int
    name: str
    prefix: str
    fingerprint: str
    enabled: bool
    expires_at: float | None  # epoch seconds
    allowed_models: tuple[str, ...]  # empty: every model
    policy: str  # quota policy name; blank: the default policy

    def is_expired(self, now: float | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or time.time())

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "KeyRecord":
        data = json.loads(text)
        data["allowed_models"] = tuple(data["allowed_models"])
        return cls(**data)


def _load(key_hash: str) -> KeyRecord | None:
    from keys.models import RelayKey

    key = RelayKey.objects.filter(key_hash=key_hash).select_related("quota_policy").first()
    if key is None:
        return None
    return KeyRecord(
        id=key.pk,
        name=key.name,
        prefix=key.prefix,
        fingerprint=key.fingerprint,
        enabled=key.enabled,
        expires_at=key.expires_at.timestamp() if key.expires_at else None,
        allowed_models=tuple(key.model_list()),
        policy=key.quota_policy.name if key.quota_policy else "",
    )


class RelayKeyLookup:
    def __init__(self, loader=_load, clock=time.monotonic) -> None:
        self._loader = loader  # a sync function run on a worker thread: hash → record or None
        self._clock = clock
        self._memory: dict[str, tuple[KeyRecord | None, float]] = {}
        self._generation = 0  # bumped by clear(): an answer read before a change is not kept

    def clear(self) -> None:
        self._generation += 1
        self._memory.clear()

    async def find(self, key_hash: str, version: str,
                   may_load: Callable[[], Awaitable[bool]] | None = None) -> KeyRecord | None:
        """The record for a key hash, or None for a key that does not exist.

        Before asking SQL, `may_load` (keys.failed_lookups) is asked; when it says no, the answer
        is UNCHECKED and nothing is looked up or written.
        """
        now = self._clock()
        hit = self._memory.get(key_hash)
        if hit is not None and hit[1] > now:
            return hit[0]
        generation = self._generation
        name = f"relay-key:{version}:{key_hash}"
        cached = await self._shared_get(name)
        if cached is not None:
            record = None if cached == _MISSING else KeyRecord.from_json(cached)
        elif may_load is not None and not await may_load():
            return UNCHECKED
        else:
            record = await run_db(self._loader, key_hash)
            await self._shared_set(name, record.to_json() if record else _MISSING)
        if generation == self._generation:
            if len(self._memory) >= MAX_MEMORY_ENTRIES:
                self._memory.clear()
            self._memory[key_hash] = (record, now + settings.RELAY_KEY_CACHE_SECONDS)
        return record

    async def _shared_get(self, name: str) -> str | None:
        try:
            (value,) = await state().get_many([name])
            return value
        except SharedStateError:
            return None  # SQL answers instead

    async def _shared_set(self, name: str, value: str) -> None:
        try:
            await state().set(name, value, settings.RELAY_KEY_CACHE_SECONDS)
        except SharedStateError:
            pass


# What find(load=False) answers for a key neither cache knows (never stored, never a real record).
UNCHECKED = KeyRecord(0, "", "", "", False, None, (), "")

lookup = RelayKeyLookup()
