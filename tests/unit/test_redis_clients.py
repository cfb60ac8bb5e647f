"""Redis clients from settings: a plain URL, or a Sentinel service with its db, credentials and TLS."""
import pytest
import redis.asyncio.sentinel
import redis.sentinel

from core import redis_clients


def test_without_sentinels_the_url_is_the_server(settings):
    settings.REDIS_URL, settings.REDIS_SENTINELS = "redis://10.0.0.5:6380/3", []
    client = redis_clients.sync_client(socket_timeout=2)
    kwargs = client.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["socket_timeout"]) == ("10.0.0.5", 6380, 3, 2)


@pytest.mark.parametrize("make, module", [(redis_clients.sync_client, redis.sentinel),
                                          (redis_clients.async_client, redis.asyncio.sentinel)])
def test_with_sentinels_the_url_names_the_service(settings, make, module):
    settings.REDIS_URL = "rediss://relay:s%40cret@mymaster/2"
    settings.REDIS_SENTINELS = [("10.0.0.7", 26379), ("10.0.0.8", 26379)]
    client = make(socket_timeout=2, max_connections=200)
    pool = client.connection_pool
    assert isinstance(pool, module.SentinelConnectionPool) and pool.service_name == "mymaster"
    assert pool.connection_class is module.SentinelManagedSSLConnection
    assert {k: pool.connection_kwargs[k] for k in ("db", "username", "password", "socket_timeout")} == {
        "db": 2, "username": "relay", "password": "s@cret", "socket_timeout": 2}
    assert [(s.connection_pool.connection_kwargs["host"]) for s in pool.sentinel_manager.sentinels] == [
        "10.0.0.7", "10.0.0.8"]
