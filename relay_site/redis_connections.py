"""Redis clients made from REDIS_URL, through Sentinel when REDIS_SENTINELS is set (as the cache's are)."""
from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio
import redis.asyncio.sentinel
import redis.sentinel
from django.conf import settings


def _service(url: str) -> tuple[str, dict[str, Any]]:
    """With Sentinel, REDIS_URL names the monitored service (redis://[user:pass@]mymaster/0)."""
    parts = urlsplit(url)
    options: dict[str, Any] = {"db": int(parts.path.strip("/") or 0)}
    if parts.username:
        options["username"] = unquote(parts.username)
    if parts.password:
        options["password"] = unquote(parts.password)
    if parts.scheme == "rediss":
        options["ssl"] = True
    return parts.hostname or "mymaster", options


def async_client(**options: Any) -> redis.asyncio.Redis:
    """A pooled asyncio client for the current master; with Sentinel it follows a failover."""
    if not settings.REDIS_SENTINELS:
        return redis.asyncio.Redis.from_url(settings.REDIS_URL, **options)
    service, auth = _service(settings.REDIS_URL)
    sentinel = redis.asyncio.sentinel.Sentinel(settings.REDIS_SENTINELS, sentinel_kwargs=_sentinel_options(options))
    options.pop("max_connections", None)  # a SentinelConnectionPool is sized by redis-py
    return sentinel.master_for(service, **auth, **options)


def sync_client(**options: Any) -> redis.Redis:
    """The same for sync code (admin signals, commands)."""
    if not settings.REDIS_SENTINELS:
        return redis.Redis.from_url(settings.REDIS_URL, **options)
    service, auth = _service(settings.REDIS_URL)
    sentinel = redis.sentinel.Sentinel(settings.REDIS_SENTINELS, sentinel_kwargs=_sentinel_options(options))
    options.pop("max_connections", None)
    return sentinel.master_for(service, **auth, **options)


def _sentinel_options(options: dict[str, Any]) -> dict[str, Any]:
    # The sentinels are asked with the same timeouts, so an unreachable one cannot stall a request.
    return {name: options[name] for name in ("socket_timeout", "socket_connect_timeout") if name in options}
