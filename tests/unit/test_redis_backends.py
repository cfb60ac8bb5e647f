"""The cache and Channels layer settings made from REDIS_URL and REDIS_SENTINELS."""
from relay_site.redis_backends import caches, channel_layers

SENTINELS = [("10.0.0.1", 26379), ("10.0.0.2", 26379)]


def test_without_redis_both_stay_in_process():
    assert caches("", [], "p")["default"]["BACKEND"].endswith("LocMemCache")
    assert channel_layers("", [], "p")["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"


def test_with_redis_the_layer_uses_the_url_under_the_prefix():
    config = channel_layers("redis://127.0.0.1:6379/3", [], "team")["default"]["CONFIG"]
    assert config == {"hosts": ["redis://127.0.0.1:6379/3"], "prefix": "team:layer"}
    assert "CLIENT_CLASS" not in caches("redis://127.0.0.1:6379/3", [], "team")["default"]["OPTIONS"]


def test_through_sentinel_the_url_names_the_service_and_carries_db_and_credentials():
    (host,) = channel_layers("redis://user:p%40ss@relaymaster/5", SENTINELS, "team")["default"]["CONFIG"]["hosts"]
    assert (host["master_name"], host["sentinels"], host["db"]) == ("relaymaster", SENTINELS, 5)
    assert (host["username"], host["password"]) == ("user", "p@ss")
    assert caches("redis://relaymaster/5", SENTINELS, "team")["default"]["OPTIONS"]["SENTINELS"] == SENTINELS
