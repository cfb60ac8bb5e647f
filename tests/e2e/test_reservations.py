"""A reservation counts the whole prompt the relay sends upstream: the JSON schema it writes into
the prompt, and the stored conversation `previous_response_id` brings back, not only the messages."""
from __future__ import annotations

import time
import uuid

import httpx

from tests.quota_fixtures import TPM, Client, assign_policy, limited, limited_relays, wait_until_applied  # noqa: F401
from tests.relay_operator import manage

HUGE = "lorem ipsum dolor " * 20_000  # about 60,000 tokens
CHAT = "/api/chat-with-ai"


def post(relay, caller: Client, path: str, body: dict) -> httpx.Response:
    return httpx.post(f"{relay.url}{path}", json={"model": "gpt-4o-mini", **body}, headers=caller.headers(), timeout=60)


def test_a_schema_carrying_60k_tokens_is_refused_under_a_small_token_limit(limited, sim):
    caller = Client([limited])
    schema = {"type": "object", "properties": {"answer": {"type": "string", "description": HUGE}}}
    response = post(limited, caller, "/v1/chat/completions", {
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}})
    assert response.status_code == 413, response.text[:300]
    assert response.json()["error"]["code"] == "request_too_large"
    assert f"limit of {TPM} tokens per minute" in response.json()["error"]["message"]
    assert sim.requests_to(CHAT) == []


def test_a_history_of_60k_tokens_is_counted_when_a_response_continues_it(limited, sim):
    caller = Client([limited])
    name = f"roomy-{uuid.uuid4().hex[:8]}"
    assign_policy(limited, caller, name, "--tpm", "0", ip=True)
    wait_until_applied([limited], caller)
    first = post(limited, caller, "/v1/responses", {"input": HUGE})
    assert first.status_code == 200, first.text[:300]
    manage(limited, "quota", "policy", name, "--tpm", "2000")
    deadline = time.monotonic() + 10
    while post(limited, caller, "/v1/chat/completions", {  # 413 once TPM=2000 is in force
            "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2001}).status_code != 413:
        assert time.monotonic() < deadline, "the lower token limit was not applied in time"
        time.sleep(0.05)  # polling with a deadline
    asked = len(sim.requests_to(CHAT))
    follow_up = post(limited, caller, "/v1/responses", {"input": "and then?", "previous_response_id": first.json()["id"]})
    assert follow_up.status_code == 413, follow_up.text[:300]
    assert follow_up.json()["error"]["code"] == "request_too_large"
    assert len(sim.requests_to(CHAT)) == asked
