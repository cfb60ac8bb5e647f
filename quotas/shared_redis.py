"""The quotas' Redis: one pooled redis.asyncio client per event loop, keys under CACHE_KEY_PREFIX.

Django's cache API is synchronous underneath (django-redis runs it in a thread), so the hot path
talks to Redis through redis.asyncio instead; sync code (admin signals) gets a plain client.
"""
from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Awaitable, Callable, TypeVar

import redis
import redis.asyncio as aioredis
from django.conf import settings

from core import redis_clients

logger = logging.getLogger(__name__)
T = TypeVar("T")

# What a failed Redis call looks like from redis-py, whichever layer notices it first.
ERRORS = (redis.exceptions.RedisError, OSError, asyncio.TimeoutError)

RETRY_SECONDS = 1.0  # after an outage, callers skip Redis this long instead of each waiting for it
_down_until = 0.0
_tripped = False
_last_success = float("-inf")

_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis]" = weakref.WeakKeyDictionary()
_sync_client: redis.Redis | None = None


class Unavailable(Exception):
    """Redis is down: a connection failed, or nothing asked of it answered within the bound."""


class Busy(Exception):
    """No connection or answer within the bound while Redis kept answering other calls: this
    process (its event loop or its connection pool) is saturated, Redis is not down."""


def enabled() -> bool:
    return bool(settings.REDIS_URL)


def trip() -> None:
    """Note an outage: for RETRY_SECONDS, `reachable()` says no without trying."""
    global _down_until, _tripped
    _down_until = time.monotonic() + RETRY_SECONDS
    _tripped = True


def reachable() -> bool:
    """Whether to try Redis now. After an outage, once RETRY_SECONDS have passed, one caller
    tries (the others keep skipping for as long as its call may take) and its success re-opens."""
    global _down_until
    now = time.monotonic()
    if now < _down_until:
        return False
    if _tripped:
        _down_until = now + 3 * settings.RATE_LIMIT_REDIS_TIMEOUT  # pool wait, connect, answer
    return True


def _succeeded() -> None:
    global _last_success, _tripped, _down_until
    _last_success = time.monotonic()
    if _tripped:
        _tripped, _down_until = False, 0.0


def _timed_out(error: BaseException) -> bool:
    """A wait ran out (for a pooled connection, to connect, for an answer), as opposed to a refusal."""
    if isinstance(error, (redis.exceptions.TimeoutError, asyncio.TimeoutError)):
        return True
    # BlockingConnectionPool reports its wait running out as ConnectionError("No connection available.").
    return isinstance(error, redis.exceptions.ConnectionError) and isinstance(error.__cause__, asyncio.TimeoutError)


async def run(command: Callable[[], Awaitable[T]]) -> T:
    """Run one Redis call; on failure raise Unavailable (and trip) or Busy (and do not).

    A wait that runs out while some other call succeeded since this one started says the
    process is busy, not that Redis is down (a busy event loop reads replies late; a saturated
    pool hands out connections late). Only refusals, and waits with no success meanwhile, trip.
    """
    started = time.monotonic()
    try:
        result = await command()
    except ERRORS as error:
        if _timed_out(error) and _last_success >= started:
            raise Busy(type(error).__name__) from error
        trip()
        raise Unavailable(type(error).__name__) from error
    _succeeded()
    return result


def key(name: str) -> str:
    return f"{settings.CACHE_KEY_PREFIX}:{name}"


def _options() -> dict:
    timeout = settings.RATE_LIMIT_REDIS_TIMEOUT
    return {"socket_connect_timeout": timeout, "socket_timeout": timeout, "health_check_interval": 30}


def client() -> aioredis.Redis:
    """This loop's client (daphne has one loop per process; tests may run others).

    Its pool holds at most RATE_LIMIT_REDIS_MAX_CONNECTIONS; a caller finding them all in use
    waits (up to RATE_LIMIT_REDIS_TIMEOUT) for one instead of failing.
    """
    loop = asyncio.get_running_loop()
    found = _clients.get(loop)
    if found is None:
        found = redis_clients.async_client(
            pool_timeout=settings.RATE_LIMIT_REDIS_TIMEOUT,
            max_connections=settings.RATE_LIMIT_REDIS_MAX_CONNECTIONS, **_options(),
        )
        _clients[loop] = found
    return found


def sync_client() -> redis.Redis:
    global _sync_client
    if _sync_client is None:
        _sync_client = redis_clients.sync_client(**_options())
    return _sync_client


async def get(name: str) -> bytes | None:
    """The value (b"" when unset), or None when there is no Redis or it cannot be reached."""
    if not enabled() or not reachable():
        return None
    try:
        value = await run(lambda: client().get(key(name)))
    except (Unavailable, Busy):
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
