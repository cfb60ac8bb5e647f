"""Small values every relay process shares (change counter, cool-downs, pool order).

Redis (async client on the request path, sync client for the admin and commands) when REDIS_URL
is set; otherwise this process's memory, which is what the embedded single-process deployment
shares. Every failure is a SharedStateError; callers choose how to degrade.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Iterable

from django.conf import settings

logger = logging.getLogger(__name__)


class SharedStateError(Exception):
    """The shared store could not be reached."""


class MemoryState:
    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._lock = threading.Lock()

    def _get(self, name: str, now: float) -> str | None:
        item = self._data.get(name)
        if item is None:
            return None
        if item[1] is not None and item[1] <= now:
            del self._data[name]
            return None
        return item[0]

    def get_many_sync(self, names: Iterable[str]) -> list[str | None]:
        with self._lock:
            now = time.monotonic()
            return [self._get(name, now) for name in names]

    def set_sync(self, name: str, value: str, ttl: float | None = None) -> None:
        if ttl is not None and ttl <= 0:
            return  # already expired
        with self._lock:
            self._data[name] = (value, time.monotonic() + ttl if ttl else None)

    def incr_sync(self, name: str) -> int:
        with self._lock:
            value = int(self._get(name, time.monotonic()) or 0) + 1
            self._data[name] = (str(value), None)
            return value

    def count_in_window_sync(self, name: str, seconds: float, by: int = 1) -> tuple[int, float]:
        """Add `by` to a counter that lives `seconds` from its first count: (count, seconds left)."""
        with self._lock:
            now = time.monotonic()
            current = self._get(name, now)
            expires = self._data[name][1] if current is not None else now + seconds
            value = int(current or 0) + by
            self._data[name] = (str(value), expires)
            return value, max(0.0, (expires or now) - now)

    def delete_sync(self, names: Iterable[str]) -> None:
        with self._lock:
            for name in names:
                self._data.pop(name, None)

    async def get_many(self, names: list[str]) -> list[str | None]:
        return self.get_many_sync(names)

    async def set(self, name: str, value: str, ttl: float | None = None) -> None:
        self.set_sync(name, value, ttl)

    async def incr(self, name: str) -> int:
        return self.incr_sync(name)

    async def count_in_window(self, name: str, seconds: float, by: int = 1) -> tuple[int, float]:
        return self.count_in_window_sync(name, seconds, by)


class RedisState:
    def __init__(self, prefix: str) -> None:
        self._prefix = f"{prefix}:keys:"
        self._async = None
        self._async_loop: asyncio.AbstractEventLoop | None = None
        self._sync = None

    def _client(self):
        from core import redis_clients

        loop = asyncio.get_running_loop()
        if self._async is None or self._async_loop is not loop:
            self._async = redis_clients.async_client(
                socket_timeout=2, socket_connect_timeout=2, decode_responses=True
            )
            self._async_loop = loop
        return self._async

    def _sync_client(self):
        from core import redis_clients

        if self._sync is None:
            self._sync = redis_clients.sync_client(
                socket_timeout=2, socket_connect_timeout=2, decode_responses=True
            )
        return self._sync

    def _names(self, names: Iterable[str]) -> list[str]:
        return [self._prefix + name for name in names]

    async def get_many(self, names: list[str]) -> list[str | None]:
        try:
            return await self._client().mget(self._names(names)) if names else []
        except Exception as error:  # noqa: BLE001 - any redis failure is the same to callers
            raise SharedStateError(str(error)) from None

    async def set(self, name: str, value: str, ttl: float | None = None) -> None:
        if ttl is not None and ttl <= 0:
            return
        try:
            await self._client().set(self._prefix + name, value, px=int(ttl * 1000) if ttl else None)
        except Exception as error:  # noqa: BLE001
            raise SharedStateError(str(error)) from None

    async def incr(self, name: str) -> int:
        try:
            return int(await self._client().incr(self._prefix + name))
        except Exception as error:  # noqa: BLE001
            raise SharedStateError(str(error)) from None

    async def count_in_window(self, name: str, seconds: float, by: int = 1) -> tuple[int, float]:
        try:
            async with self._client().pipeline(transaction=True) as pipe:
                pipe.set(self._prefix + name, 0, px=max(1, int(seconds * 1000)), nx=True)  # a new window
                pipe.incrby(self._prefix + name, by)
                pipe.pttl(self._prefix + name)
                _, count, left_ms = await pipe.execute()
            return int(count), max(0.0, int(left_ms) / 1000)
        except Exception as error:  # noqa: BLE001
            raise SharedStateError(str(error)) from None

    def get_many_sync(self, names: Iterable[str]) -> list[str | None]:
        names = list(names)
        try:
            return self._sync_client().mget(self._names(names)) if names else []
        except Exception as error:  # noqa: BLE001
            raise SharedStateError(str(error)) from None

    def set_sync(self, name: str, value: str, ttl: float | None = None) -> None:
        if ttl is not None and ttl <= 0:
            return
        try:
            self._sync_client().set(self._prefix + name, value, px=int(ttl * 1000) if ttl else None)
        except Exception as error:  # noqa: BLE001
            raise SharedStateError(str(error)) from None

    def incr_sync(self, name: str) -> int:
        try:
            return int(self._sync_client().incr(self._prefix + name))
        except Exception as error:  # noqa: BLE001
            raise SharedStateError(str(error)) from None

    def delete_sync(self, names: Iterable[str]) -> None:
        names = list(names)
        try:
            if names:
                self._sync_client().delete(*self._names(names))
        except Exception as error:  # noqa: BLE001
            raise SharedStateError(str(error)) from None


_state: MemoryState | RedisState | None = None
_configured_for: tuple[str, str] | None = None


def state() -> MemoryState | RedisState:
    """The process's store, chosen by REDIS_URL (re-chosen if settings change, as in tests)."""
    global _state, _configured_for
    wanted = (settings.REDIS_URL or "", settings.CACHE_KEY_PREFIX)
    if _state is None or _configured_for != wanted:
        _state = RedisState(wanted[1]) if wanted[0] else MemoryState()
        _configured_for = wanted
    return _state


VERSION = "version"  # bumped by keys.signals on every change to a relay or upstream key


def bump_version() -> None:
    """Tell every process its cached keys are stale (from the admin, commands, signals)."""
    state().incr_sync(VERSION)


class ChangeWatch:
    """Whether relay or upstream keys changed since last asked: reads the shared change counter
    at most every RELAY_KEY_SYNC_SECONDS, so a revocation reaches every process that fast."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._checked = float("-inf")
        self.version = ""

    def recheck(self) -> None:
        """Read the counter on the next call (this process just changed a key)."""
        self._checked = float("-inf")

    async def changed(self) -> bool:
        now = self._clock()
        if now - self._checked < settings.RELAY_KEY_SYNC_SECONDS:
            return False
        self._checked = now
        try:
            (value,) = await state().get_many([VERSION])
        except SharedStateError as error:
            logger.warning("shared state unavailable (%s); key changes apply on cache expiry", error)
            return False  # caches then expire by RELAY_KEY_CACHE_SECONDS alone
        value = value or ""
        if value == self.version:
            return False
        self.version = value
        return True


watch = ChangeWatch()
