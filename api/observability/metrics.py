"""Prometheus metrics: what the relay counts, the small API other modules count through, and /metrics.

With PROMETHEUS_MULTIPROC_DIR set (the multi-process launcher sets it) every process writes its
samples to files there and /metrics sums them, so any process answers for all of them.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

if TYPE_CHECKING:
    from core.call_context import CallContext

# From a cached model list (milliseconds) to a long generation (minutes).
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_OVERHEAD_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25)

REQUESTS = Counter(
    "relay_requests", "API calls answered, by endpoint, model and HTTP status.",
    ["endpoint", "model", "status"],
)
REQUEST_SECONDS = Histogram(
    "relay_request_duration_seconds",
    "Time from request to the last byte of the answer (the whole stream for streams).",
    ["endpoint", "model", "status"], buckets=_LATENCY_BUCKETS,
)
OVERHEAD_SECONDS = Histogram(
    "relay_overhead_seconds",
    "Time the relay itself spent before the response headers, excluding waits on 1min.ai.",
    ["endpoint"], buckets=_OVERHEAD_BUCKETS,
)
UPSTREAM_SECONDS = Histogram(
    "relay_upstream_duration_seconds",
    "Time 1min.ai took to answer (to the response headers for streams), by operation and status.",
    ["operation", "status"], buckets=_LATENCY_BUCKETS,
)
TOKENS = Counter(
    "relay_tokens", "Tokens in answered calls, by endpoint, model and kind (prompt or completion).",
    ["endpoint", "model", "kind"],
)
CREDITS = Counter("relay_upstream_credits", "1min.ai credits reported for answered calls.", ["model"])
RATE_LIMIT_REJECTIONS = Counter(
    "relay_rate_limit_rejections", "Requests refused by the relay's own limits, by endpoint and limit.",
    ["endpoint", "limit"],
)
LOOP_LAG_SECONDS = Histogram(
    "relay_event_loop_lag_seconds", "How late a 100 ms timer fired on the event loop.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
OPEN_STREAMS = Gauge(
    "relay_open_streams", "Event streams being sent to clients right now.", ["endpoint"],
    multiprocess_mode="livesum",
)

# Labels come from clients (model names); only names the catalogue knows become label values, so
# a client cannot grow the metrics without bound.
OTHER = "other"
_model_is_known: Callable[[str], bool] = lambda model: False  # noqa: E731 - replaced at start-up


def use_model_catalogue(is_known: Callable[[str], bool]) -> None:
    global _model_is_known
    _model_is_known = is_known


def endpoint_label(endpoint: str) -> str:
    """Views name their endpoint; a bare path (a view without a name) is not a bounded label."""
    return OTHER if endpoint.startswith("/") else endpoint


def model_label(model: str | None) -> str:
    if not model:
        return ""
    return model if _model_is_known(model) else OTHER


async def record_call(call: "CallContext") -> None:
    """A CallContext finish hook: count the call, its latency and its tokens."""
    endpoint, model, status = endpoint_label(call.endpoint), model_label(call.model), str(call.status)
    REQUESTS.labels(endpoint, model, status).inc()
    REQUEST_SECONDS.labels(endpoint, model, status).observe(call.latency_ms / 1000)
    if call.prompt_tokens:
        TOKENS.labels(endpoint, model, "prompt").inc(call.prompt_tokens)
    if call.completion_tokens:
        TOKENS.labels(endpoint, model, "completion").inc(call.completion_tokens)
    if call.credits:
        CREDITS.labels(model).inc(call.credits)


def count_rate_limit_rejection(endpoint: str, limit: str) -> None:
    """For the limits code: one request refused by the relay's own limit named `limit`."""
    RATE_LIMIT_REJECTIONS.labels(endpoint, limit).inc()


def observe_upstream(operation: str, status: str, seconds: float) -> None:
    UPSTREAM_SECONDS.labels(operation, status).observe(seconds)


def observe_overhead(endpoint: str, seconds: float) -> None:
    OVERHEAD_SECONDS.labels(endpoint_label(endpoint)).observe(seconds)


def observe_loop_lag(seconds: float) -> None:
    LOOP_LAG_SECONDS.observe(seconds)


def stream_opened(endpoint: str) -> None:
    OPEN_STREAMS.labels(endpoint).inc()


def stream_closed(endpoint: str) -> None:
    OPEN_STREAMS.labels(endpoint).dec()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def render() -> tuple[bytes, str]:
    """The exposition text: this process's metrics, or every process's when multi-process."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
