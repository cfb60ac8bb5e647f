"""The metrics API other modules count through, and the labels it lets through."""
import asyncio

import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.observability import metrics
from core.call_context import CallContext


def value(name: str, **labels: str) -> float:
    text = metrics.render()[0].decode()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


@pytest.fixture
def catalogue():
    metrics.use_model_catalogue(lambda model: model in {"gpt-4o-mini"})
    yield
    metrics.use_model_catalogue(lambda model: False)


def test_the_limits_code_can_count_a_rejection():
    before = value("relay_rate_limit_rejections_total", endpoint="chat.completions", limit="key-rpm")
    metrics.count_rate_limit_rejection("chat.completions", "key-rpm")
    assert value("relay_rate_limit_rejections_total", endpoint="chat.completions", limit="key-rpm") == before + 1


@pytest.mark.parametrize(
    "endpoint, model, expected_endpoint, expected_model",
    [
        ("chat.completions", "gpt-4o-mini", "chat.completions", "gpt-4o-mini"),
        ("chat.completions", "made-up-model", "chat.completions", "other"),
        ("chat.completions", None, "chat.completions", ""),
        ("/v1/some/path", "gpt-4o-mini", "other", "gpt-4o-mini"),
    ],
)
def test_a_finished_call_is_counted_under_bounded_labels(catalogue, endpoint, model, expected_endpoint, expected_model):
    labels = {"endpoint": expected_endpoint, "model": expected_model, "status": "429"}
    before = value("relay_requests_total", **labels)
    call = CallContext(endpoint=endpoint, model=model, status=429)
    call.on_finish(metrics.record_call)
    asyncio.run(call.finish())
    assert value("relay_requests_total", **labels) == before + 1


def test_tokens_and_credits_are_added_up_per_model(catalogue):
    before = value("relay_tokens_total", endpoint="chat.completions", model="gpt-4o-mini", kind="completion")
    credits_before = value("relay_upstream_credits_total", model="gpt-4o-mini")
    call = CallContext(endpoint="chat.completions", model="gpt-4o-mini")
    call.note_usage(7, 11, credits=3)
    asyncio.run(metrics.record_call(call))
    assert value("relay_tokens_total", endpoint="chat.completions", model="gpt-4o-mini", kind="completion") == before + 11
    assert value("relay_upstream_credits_total", model="gpt-4o-mini") == credits_before + 3


def test_open_streams_go_up_and_down():
    before = value("relay_open_streams", endpoint="responses")
    metrics.stream_opened("responses")
    assert value("relay_open_streams", endpoint="responses") == before + 1
    metrics.stream_closed("responses")
    assert value("relay_open_streams", endpoint="responses") == before
