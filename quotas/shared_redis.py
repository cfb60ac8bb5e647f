"""The quotas' Redis: one pooled redis.asyncio client per event loop, keys under CACHE_KEY_PREFIX.

Django's cache API is synchronous underneath (django-redis runs it in a thread), so the hot path
talks to Redis through redis.asyncio instead; sync code (admin signals) gets a plain client.
"""
from __future__ import annotations

import asyncio
import logging
import time
import weakref

import redis
import redis.asyncio as aioredis
from django.conf import settings

from relay_site import redis_connections

logger = logging.getLogger(__name__)

# What a Redis outage looks like from redis-py, whichever layer notices it first.
ERRORS = (redis.exceptions.RedisError, OSError, asyncio.TimeoutError)

RETRY_SECONDS = 1.0  # after a failure, callers skip Redis this long instead of each waiting for a timeout
_down_until = 0.0

_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis]" = weakref.WeakKeyDictionary()
_sync_client: redis.Redis | None = None


def enabled() -> bool:
    return bool(settings.REDIS_URL)


def trip() -> None:
    """Note a failure: for RETRY_SECONDS, `reachable()` says no without trying."""
    global _down_until
    _down_until = time.monotonic() + RETRY_SECONDS


def reachable() -> bool:
    return time.monotonic() >= _down_until


def key(name: str) -> str:
    return f"{settings.CACHE_KEY_PREFIX}:{name}"


def _options() -> dict:
    timeout = settings.RATE_LIMIT_REDIS_TIMEOUT
    return {"socket_connect_timeout": timeout, "socket_timeout": timeout, "health_check_interval": 30}


def client() -> aioredis.Redis:
    """This loop's client (daphne has one loop per process; tests may run others)."""
    loop = asyncio.get_running_loop()
    found = _clients.get(loop)
    if found is None:
        found = redis_connections.async_client(max_connections=200, **_options())
        _clients[loop] = found
    return found


def sync_client() -> redis.Redis:
    global _sync_client
    if _sync_client is None:
        _sync_client = redis_connections.sync_client(**_options())
    return _sync_client


async def get(name: str) -> bytes | None:
    """The value (b"" when unset), or None when there is no Redis or it cannot be reached."""
    if not enabled() or not reachable():
        return None
    try:
        value = await client().get(key(name))
    except ERRORS:
        trip()
        return None
    return b"" if value is None else value


def incr_sync(name: str) -> None:
    if not enabled():
        return
    try:
        sync_client().incr(key(name))
    except ERRORS:
        # Other processes still re-read their tables at least once a minute.
        logger.warning("Redis unreachable: other processes will see this quota change within a minute")
