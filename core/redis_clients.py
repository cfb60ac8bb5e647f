"""Redis clients made from REDIS_URL, through Sentinel when REDIS_SENTINELS is set (as the cache's are)."""
from __future__ import annotations

from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio
import redis.asyncio.sentinel
import redis.sentinel
from django.conf import settings


def async_client(pool_timeout: float | None = None, **options: Any) -> redis.asyncio.Redis:
    """A pooled asyncio client for the current master; with Sentinel it follows a failover.

    With `pool_timeout`, a caller finding every connection (`max_connections`) in use waits up to
    that long for one to be released instead of failing at once (without Sentinel, whose pool
    has no cap).
    """
    if pool_timeout is not None and not settings.REDIS_SENTINELS:
        pool = redis.asyncio.BlockingConnectionPool.from_url(settings.REDIS_URL, timeout=pool_timeout, **options)
        return redis.asyncio.Redis(connection_pool=pool)
    return _client(redis.asyncio.Redis, redis.asyncio.sentinel, options)


def sync_client(**options: Any) -> redis.Redis:
    """The same for sync code (admin signals, commands)."""
    return _client(redis.Redis, redis.sentinel, options)


def _client(redis_class: type, sentinel: ModuleType, options: dict[str, Any]):
    if not settings.REDIS_SENTINELS:
        return redis_class.from_url(settings.REDIS_URL, **options)
    # With Sentinel, REDIS_URL names the monitored service: redis://[user:password@]mymaster/0.
    parts = urlsplit(settings.REDIS_URL)
    options = {k: v for k, v in options.items() if k != "max_connections"}  # redis-py sizes this pool
    options["db"] = int(parts.path.strip("/") or 0)
    if parts.username:
        options["username"] = unquote(parts.username)
    if parts.password:
        options["password"] = unquote(parts.password)
    if parts.scheme == "rediss":
        options["connection_class"] = sentinel.SentinelManagedSSLConnection
    # The sentinels are asked with the same timeouts, so an unreachable one cannot stall a request.
    asking = {k: options[k] for k in ("socket_timeout", "socket_connect_timeout") if k in options}
    return sentinel.Sentinel(settings.REDIS_SENTINELS, sentinel_kwargs=asking).master_for(
        parts.hostname or "mymaster", redis_class=redis_class, **options
    )
