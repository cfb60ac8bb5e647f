"""Relays with low limits for the quota tests; with Redis, two processes sharing its counters.

Every test uses its own key and its own client address (sent as X-Forwarded-For, which these
relays trust from 127.0.0.1), so tests sharing the processes never share a counter.
"""
from __future__ import annotations

import os
import time
import uuid

import httpx
import pytest

from core.identity import fingerprint
from tests.relay_operator import manage

RPM = 20
TPM = 3000
LIMITED_ENV = {
    "RATE_LIMIT_REQUESTS_PER_MINUTE": str(RPM),
    "RATE_LIMIT_TOKENS_PER_MINUTE": str(TPM),
    "TRUSTED_PROXIES": "127.0.0.1/32,::1/128",
    "QUOTA_POLICY_REFRESH_SECONDS": "0.2",
    "USAGE_FLUSH_SECONDS": "0.1",
}


@pytest.fixture(scope="session")
def limited_relays(relay_factory):
    """One relay process, or two sharing Redis in the shared-backend run."""
    env = {**LIMITED_ENV, "CACHE_KEY_PREFIX": f"relay-quota-{uuid.uuid4().hex[:8]}"}
    first = relay_factory(**env)
    if not os.environ.get("REDIS_URL"):
        return [first]
    return [first, relay_factory(**env)]


@pytest.fixture
def limited(limited_relays):
    return limited_relays[0]


class Client:
    """One caller: its own key and address; `post`/`get` go to the relay given (or the first)."""

    def __init__(self, relays, key: str | None = None, ip: str | None = None) -> None:
        from tests.relay_operator import fresh_ip, fresh_key

        self.relays = relays
        self.key = key or fresh_key()
        self.ip = ip or fresh_ip()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", "X-Forwarded-For": self.ip}

    def chat(self, relay=None, **body) -> httpx.Response:
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], **body}
        relay = relay or self.relays[0]
        return httpx.post(f"{relay.url}/v1/chat/completions", json=body, headers=self.headers(), timeout=30)


def wait_until_applied(relays, client: Client, refused_model: str = "gpt-4o", timeout: float = 10.0) -> None:
    """Poll every relay until the client's new policy refuses `refused_model` (its probe)."""
    deadline = time.monotonic() + timeout
    for relay in relays:
        while True:
            response = client.chat(relay, model=refused_model, max_tokens=1)
            if response.status_code == 403:
                break
            assert time.monotonic() < deadline, f"policy not applied in time: {response.status_code} {response.text}"
            time.sleep(0.05)  # polling with a deadline


def assign_policy(relay, client: Client, name: str, *flags: str, ip: bool = False) -> None:
    """Create a policy allowing only gpt-4o-mini (so `wait_until_applied` can see it) and assign it."""
    targets = ["--assign", f"key:{client.fingerprint}"] + (["--assign", f"ip:{client.ip}"] if ip else [])
    manage(relay, "quota", "policy", name, "--models", "gpt-4o-mini", *flags, *targets)
