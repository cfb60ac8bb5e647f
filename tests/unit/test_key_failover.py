"""The key a call sends at the upstream seam: the caller's own secret, or a pooled key its lease swaps."""
from __future__ import annotations

import asyncio

import httpx
import pytest

from api.upstream import onemin_client
from api.upstream.retry_policy import RetryPolicy
from core.errors import AuthenticationFailed, RelayError
from core.upstream_key import UpstreamKey

URL = "http://upstream.test/api/chat-with-ai"


class FakeLease:
    """A pool of secrets tried in order; records what the seam reported."""

    def __init__(self, *secrets: str) -> None:
        self.secrets, self.failures, self.served, self.authorized = list(secrets), [], [], []

    def authorize(self, payload):
        self.authorized.append(payload)

    async def acquire(self) -> str:
        return self.secrets[0]

    async def failed(self, key: str, error: RelayError) -> str:
        self.failures.append((key, error.status))
        self.secrets.remove(key)
        if not self.secrets:
            raise AuthenticationFailed("no key left")
        return self.secrets[0]

    def succeeded(self, key: str) -> None:
        self.served.append(key)


@pytest.fixture
def upstream():
    """A fake 1min.ai that refuses the keys named in `refused` (status per key) and records what it was sent."""
    sent: list[str] = []
    refused: dict[str, int] = {}

    def handle(request: httpx.Request) -> httpx.Response:
        key = request.headers["api-key"]
        sent.append(key)
        if key in refused:
            return httpx.Response(refused[key], json={"message": "no"})
        return httpx.Response(200, json={"ok": True})

    onemin_client.transport_override = httpx.MockTransport(handle)
    onemin_client.retry_policy_override = RetryPolicy(max_retries=2, base_delay=0, max_wait=0,
                                                      sleep=lambda _s: asyncio.sleep(0))
    onemin_client._client = None
    yield sent, refused
    onemin_client.transport_override = None
    onemin_client.retry_policy_override = None
    onemin_client._client = None


def post(key: UpstreamKey):
    async def run():
        try:
            return await onemin_client.post_json(URL, key, {"model": "gpt-4o-mini"})
        finally:
            await onemin_client.aclose()
    return asyncio.run(run())


def test_a_callers_own_key_is_sent_as_it_is(upstream):
    sent, _ = upstream
    assert post(UpstreamKey("sk-own")) == {"ok": True}
    assert sent == ["sk-own"]


def test_a_pooled_key_sends_what_the_lease_gives_and_moves_on_when_1min_ai_refuses_it(upstream):
    sent, refused = upstream
    refused.update({"pool-a": 401, "pool-b": 429})
    lease = FakeLease("pool-a", "pool-b", "pool-c")
    assert post(UpstreamKey("pool-a", lease)) == {"ok": True}
    # A pooled key's 429 goes to the next key at once, not retried at the seam.
    assert sent == ["pool-a", "pool-b", "pool-c"]
    assert lease.failures == [("pool-a", 401), ("pool-b", 429)] and lease.served == ["pool-c"]
    assert lease.authorized == [{"model": "gpt-4o-mini"}]


def test_the_key_never_shows_in_a_repr_or_a_format():
    for key in (UpstreamKey("sk-very-secret"), UpstreamKey("sk-very-secret", FakeLease("x"))):
        assert "sk-very-secret" not in repr(key) and "sk-very-secret" not in f"{key} {key!s}"
    assert repr(UpstreamKey("sk-very-secret", FakeLease("x"))) == "UpstreamKey(<redacted>, pooled)"
