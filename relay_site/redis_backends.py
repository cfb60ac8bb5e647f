"""The cache and the Channels layer settings: in process by default, Redis (or Sentinel) when REDIS_URL is set."""
from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

SentinelHosts = list[tuple[str, int]]


def caches(redis_url: str, sentinels: SentinelHosts, prefix: str) -> dict[str, Any]:
    if not redis_url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "relay",
                            "KEY_PREFIX": prefix}}
    options: dict[str, Any] = {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2}
    if sentinels:
        options.update({
            "CLIENT_CLASS": "django_redis.client.SentinelClient",
            "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
            "SENTINELS": sentinels,
        })
    return {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url, "KEY_PREFIX": prefix,
                        "OPTIONS": options}}


def channel_layers(redis_url: str, sentinels: SentinelHosts, prefix: str) -> dict[str, Any]:
    """Redis pub/sub across processes (channels-redis); one process's memory without Redis."""
    if not redis_url:
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    host = sentinel_host(redis_url, sentinels) if sentinels else redis_url
    return {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                        "CONFIG": {"hosts": [host], "prefix": f"{prefix}:layer"}}}


def sentinel_host(url: str, sentinels: SentinelHosts) -> dict[str, Any]:
    """channels-redis' host entry for Sentinel: the URL then names the service, e.g. redis://mymaster/0."""
    parts = urlsplit(url)
    timeouts = {"socket_timeout": 2, "socket_connect_timeout": 2}
    host = {"master_name": parts.hostname or "mymaster", "sentinels": sentinels, "sentinel_kwargs": dict(timeouts),
            "db": int(parts.path.strip("/") or 0), **timeouts}
    if parts.username:
        host["username"] = unquote(parts.username)
    if parts.password:
        host["password"] = unquote(parts.password)
    return host
