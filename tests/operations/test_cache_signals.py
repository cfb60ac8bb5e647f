"""core.broadcast from the operator's side: saves and commands announce changes, and never fail for it."""
import io
import logging

import pytest
from django.core.management import call_command

from core import broadcast
from quotas.models import BlockedClient, QuotaPolicy
from quotas.policies import POLICIES

pytestmark = pytest.mark.django_db
UNREACHABLE_REDIS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                                 "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}}


@pytest.fixture
def heard():
    """The topics this process's handlers ran for."""
    topics: list[str] = []
    handlers = {topic: (lambda t=topic: topics.append(t)) for topic in (POLICIES, "keys", "api.model-aliases")}
    for topic, handler in handlers.items():
        broadcast.on(topic, handler)
    yield topics
    for topic, handler in handlers.items():
        broadcast._handlers[topic].remove(handler)


def test_every_app_registers_a_cache_drop_handler_for_its_topics():
    assert {POLICIES, "keys", "api.model-aliases", "api.models"} <= set(broadcast.topics())


def test_a_saved_block_runs_this_processs_handlers_after_the_commit(heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        BlockedClient.objects.create(kind="ip", target="192.0.2.77")
        assert heard == []  # not before the commit: a reload then would keep the old rows
    assert heard == [POLICIES]


def test_a_save_succeeds_while_redis_is_down_and_the_failure_is_logged(
        heard, settings, caplog, django_capture_on_commit_callbacks):
    settings.CHANNEL_LAYERS = UNREACHABLE_REDIS
    with caplog.at_level(logging.WARNING, logger="core.broadcast"), django_capture_on_commit_callbacks(execute=True):
        QuotaPolicy.objects.create(name="saved-while-down", requests_per_minute=5)
    assert QuotaPolicy.objects.filter(name="saved-while-down").exists()
    assert POLICIES in heard  # this process still drops its own copy (and its cached relay keys)
    assert "could not announce 'quotas.policies' to the other relay processes" in caplog.text


def test_a_command_succeeds_while_redis_is_down(heard, settings, caplog, django_capture_on_commit_callbacks):
    settings.CHANNEL_LAYERS = UNREACHABLE_REDIS
    out = io.StringIO()
    with caplog.at_level(logging.WARNING, logger="core.broadcast"), django_capture_on_commit_callbacks(execute=True):
        call_command("quota", "block", "ip", "192.0.2.78", stdout=out)
    assert "Done! Blocked" in out.getvalue()
    assert BlockedClient.objects.filter(target="192.0.2.78/32").exists()
    assert "could not announce" in caplog.text


def test_a_failing_handler_does_not_stop_the_others(heard, caplog):
    def broken():
        raise RuntimeError("boom")

    broadcast.on(POLICIES, broken)
    try:
        broadcast._handlers[POLICIES].insert(0, broadcast._handlers[POLICIES].pop())
        broadcast.announce(POLICIES)
    finally:
        broadcast._handlers[POLICIES].remove(broken)
    assert heard == [POLICIES] and "boom" in caplog.text
