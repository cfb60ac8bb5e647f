"""Which upstream failures are retried, how long the relay waits, and that it never waits for real."""
from __future__ import annotations

import asyncio
import json
from email.utils import format_datetime
from datetime import datetime, timezone

import httpx
import pytest

from api.upstream import onemin_client
from core.errors import RateLimited, UpstreamError, UpstreamTimeout
from api.upstream.retry_policy import RetryPolicy, parse_retry_after
from core.upstream_key import UpstreamKey

NOW = 1_700_000_000.0


def policy(**kwargs) -> RetryPolicy:
    return RetryPolicy(**{"max_retries": 2, "base_delay": 0.5, "max_wait": 10.0, "random": lambda: 1.0,
                          "clock": lambda: NOW, **kwargs})


@pytest.mark.parametrize(
    "retries_done, retry_after, expected",
    [
        (0, None, 0.5),    # full jitter: random() * min(max_wait, base * 2**n), random() = 1 here
        (1, None, 1.0),
        (2, None, None),   # max_retries reached
        (0, "3", 3.0),     # Retry-After is honoured exactly
        (0, "10", 10.0),   # ... up to the cap
        (0, "11", None),   # longer than the cap: give up and pass the 429 on
        (0, "0", 0.0),
        (0, "soon", 0.5),  # unreadable: back off as if absent
    ],
)
def test_it_backs_off_exponentially_and_honours_retry_after_up_to_the_cap(retries_done, retry_after, expected):
    assert policy().delay(retries_done, retry_after) == expected


def test_the_backoff_never_exceeds_the_cap_and_uses_full_jitter():
    capped = policy(base_delay=4.0, max_wait=5.0, max_retries=10)
    assert capped.delay(5) == 5.0
    assert policy(random=lambda: 0.0).delay(1) == 0.0
    assert policy(random=lambda: 0.25).delay(1) == 0.25


def test_no_retries_when_disabled():
    assert policy(max_retries=0).delay(0) is None


@pytest.mark.parametrize(
    "value, expected",
    [("7", 7.0), (" 2.5 ", 2.5), ("-3", 0.0), ("", None), (None, None), ("later", None),
     (format_datetime(datetime.fromtimestamp(NOW + 42, timezone.utc), usegmt=True), 42.0),
     (format_datetime(datetime.fromtimestamp(NOW - 42, timezone.utc), usegmt=True), 0.0)],
)
def test_it_reads_retry_after_as_seconds_or_an_http_date(value, expected):
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize("status, retried", [(429, True), (502, True), (503, True), (521, True), (522, True),
                                             (523, True), (500, False), (504, False), (400, False), (200, False)])
def test_only_statuses_where_the_upstream_cannot_have_run_the_call_are_retryable(status, retried):
    assert policy().retryable_status(status) is retried


# ---- the retry loop at the upstream seam, with a scripted transport and a fake sleep -----------

class Upstream:
    """A scripted transport: each item is a status (with optional headers) or an exception."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        status, headers = outcome if isinstance(outcome, tuple) else (outcome, {})
        body = json.dumps({"ok": status} if status < 300 else {"message": "x"}).encode()
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))


@pytest.fixture
def seam(settings):
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    def install(upstream: Upstream, **kwargs) -> list[float]:
        onemin_client.transport_override = httpx.MockTransport(upstream)
        onemin_client.retry_policy_override = policy(sleep=fake_sleep, **kwargs)
        onemin_client._client = None
        return slept

    yield install
    onemin_client.transport_override = None
    onemin_client.retry_policy_override = None
    onemin_client._client = None


def call(coro_fn):
    async def run():
        try:
            return await coro_fn()
        finally:
            await onemin_client.aclose()
    return asyncio.run(run())


def post():
    return onemin_client.post_json("http://upstream.test/api/chat-with-ai", UpstreamKey("key"), {"a": 1})


def test_connect_errors_are_retried_then_succeed(seam):
    upstream = Upstream(httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), 200)
    slept = seam(upstream)
    assert call(post) == {"ok": 200}
    assert upstream.calls == 3 and slept == [0.5, 1.0]


def test_a_gateway_error_is_retried_up_to_the_limit_then_reported(seam):
    upstream = Upstream(522, 502, 503)
    slept = seam(upstream)
    with pytest.raises(UpstreamError) as caught:
        call(post)
    assert caught.value.status == 502 and "503" in caught.value.message
    assert upstream.calls == 3 and len(slept) == 2


def test_a_429_waits_its_retry_after(seam):
    upstream = Upstream((429, {"Retry-After": "3"}), 200)
    slept = seam(upstream)
    assert call(post) == {"ok": 200}
    assert slept == [3.0]


def test_a_429_asking_for_longer_than_the_cap_is_passed_on_at_once(seam):
    upstream = Upstream((429, {"Retry-After": "60"}), 200)
    slept = seam(upstream)
    with pytest.raises(RateLimited) as caught:
        call(post)
    assert caught.value.headers == {"Retry-After": "60"}
    assert upstream.calls == 1 and slept == []


@pytest.mark.parametrize("outcome", [500, 504, httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut")])
def test_failures_after_the_call_reached_the_upstream_are_never_retried(seam, outcome):
    upstream = Upstream(outcome, 200)
    slept = seam(upstream)
    with pytest.raises(UpstreamError):
        call(post)
    assert upstream.calls == 1 and slept == []


def test_a_read_timeout_is_a_504(seam):
    seam(Upstream(httpx.ReadTimeout("slow")))
    with pytest.raises(UpstreamTimeout):
        call(post)


def test_connect_failures_that_outlast_the_retries_say_the_upstream_was_unreachable(seam):
    upstream = Upstream(*[httpx.ConnectError("refused")] * 3)
    seam(upstream)
    with pytest.raises(UpstreamError) as caught:
        call(post)
    assert upstream.calls == 3 and caught.value.message == "Could not reach 1min.ai."


def test_a_stream_is_retried_only_before_it_opens(seam):
    upstream = Upstream(503, 200)
    slept = seam(upstream)

    async def open_and_close():
        stream = await onemin_client.open_stream("http://upstream.test/s", UpstreamKey("key"), {})
        body = b"".join([chunk async for chunk in stream.chunks()])
        await stream.aclose()
        return body

    assert call(open_and_close) == b'{"ok": 200}'
    assert upstream.calls == 2 and len(slept) == 1
