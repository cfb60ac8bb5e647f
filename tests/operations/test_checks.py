"""manage.py check warns when limits would be counted per process."""
from quotas.checks import counters_are_shared


def test_several_workers_without_redis_get_a_warning(settings, monkeypatch):
    settings.REDIS_URL = ""
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    (warning,) = counters_are_shared(None)
    assert warning.id == "quotas.W001"


def test_one_worker_or_a_shared_redis_is_fine(settings, monkeypatch):
    settings.REDIS_URL = ""
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    assert counters_are_shared(None) == []
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    assert counters_are_shared(None) == []
