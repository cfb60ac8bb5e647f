"""The pool of 1min.ai keys behind relay keys: order, cool-downs and failover before any byte."""
import json

import httpx
import pytest

from tests.openai_schema import validate
from tests.relay_admin import chat, managed_env

A, B, C = "pool-key-aaaa-0001", "pool-key-bbbb-0002", "pool-key-cccc-0003"
RING = [A, B, C]


@pytest.fixture(scope="module")
def keyed(keyed_relay):
    return keyed_relay


@pytest.fixture(scope="module")
def admin(keyed_admin):
    return keyed_admin


@pytest.fixture(scope="module")
def relay_key(keyed, admin):
    return admin.add_relay_key("pool-tester")[1]


def keys_sent(sim) -> list[str]:
    return [r["headers"]["api-key"] for r in sim.requests_to("/api/chat-with-ai")]


def test_round_robin_walks_the_pool_in_order(keyed, admin, relay_key, sim):
    admin.pool(a=A, b=B, c=C)
    for _ in range(6):
        assert chat(keyed, relay_key).status_code == 200
    sent = keys_sent(sim)
    assert set(sent) == set(RING)
    assert all(RING[(RING.index(x) + 1) % 3] == y for x, y in zip(sent, sent[1:])), sent


def test_a_key_1min_rejects_cools_down_and_the_call_succeeds_on_another(keyed, admin, relay_key, sim):
    ids = admin.pool(a=A, b=B, c=C)
    sim.configure(accept_any_key=False)
    sim.valid_keys.update({B, C})
    for _ in range(5):
        assert chat(keyed, relay_key).status_code == 200
    sent = keys_sent(sim)
    assert sent.count(A) == 1 and A not in sent[sent.index(A) + 1:]
    assert sum(r["response_status"] == 200 for r in sim.requests_to("/api/chat-with-ai")) == 5
    assert sim.wait_for(lambda: "rejected at" in admin.upstream_row(ids["a"]), timeout=10, interval=0.1)
    row = admin.upstream_row(ids["a"])
    assert "cooling down (rejected)" in row and "Failures: 1" in row
    assert "healthy" in admin.upstream_row(ids["b"])
    assert sim.wait_for(lambda: "Requests: 0" not in admin.upstream_row(ids["b"]), timeout=10, interval=0.1)


@pytest.mark.parametrize("failure", [
    {"status": 429, "retry_after": "1"},
    {"status": 402, "error_code": "INSUFFICIENT_CREDITS", "message": "Not enough credits"},
    {"status": 400, "error_code": "INSUFFICIENT_CREDITS", "message": "Not enough credits"},
    {"status": 403, "error_code": "FORBIDDEN"},
], ids=["rate-limited", "credits-402", "credits-400", "forbidden"])
def test_rate_limit_and_credit_failures_move_the_call_to_another_key(keyed, admin, relay_key, sim, failure):
    admin.pool(a=A, b=B, c=C)
    sim.script(failure, times=1)
    response = chat(keyed, relay_key)
    assert response.status_code == 200, response.text
    validate(response.json(), "CreateChatCompletionResponse")
    first, second = keys_sent(sim)
    assert first != second


def test_a_stream_fails_over_before_its_first_byte(keyed, admin, relay_key, sim):
    admin.pool(a=A, b=B, c=C)
    sim.script({"status": 401}, times=1)
    sim.script({"status": 429}, times=1)
    with httpx.stream("POST", f"{keyed.url}/v1/chat/completions", timeout=30,
                      headers={"Authorization": f"Bearer {relay_key}"},
                      json={"model": "gpt-4o-mini", "stream": True,
                            "messages": [{"role": "user", "content": "hi"}]}) as response:
        assert response.status_code == 200
        payloads = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    for chunk in chunks:
        validate(chunk, "CreateChatCompletionStreamResponse")
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text.startswith("Simulated reply")
    assert len(set(keys_sent(sim))) == 3


def test_when_every_key_is_refused_the_client_gets_a_503_with_retry_after(keyed, admin, relay_key, sim):
    admin.pool(a=A, b=B)
    sim.configure(accept_any_key=False)
    response = chat(keyed, relay_key)
    assert response.status_code == 503
    validate(response.json(), "ErrorResponse")
    assert response.json()["error"]["code"] == "upstream_keys_unavailable"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert sorted(keys_sent(sim)) == [A, B]
    assert chat(keyed, relay_key).status_code == 503
    assert len(keys_sent(sim)) == 2  # both cooling: 1min.ai is not asked again


def test_an_empty_pool_is_a_503_naming_the_operator(keyed, admin, relay_key, sim):
    admin.empty_the_pool()
    response = chat(keyed, relay_key)
    assert response.status_code == 503 and response.json()["error"]["code"] == "no_upstream_key"
    assert "operator" in response.json()["error"]["message"]


def test_least_recently_used_takes_the_key_idle_longest(relay_factory, keyed, admin, relay_key, sim):
    # A second process on the same database; with no caching it sees the admin's changes at once.
    lru = relay_factory(**managed_env(
        UPSTREAM_KEY_POLICY="least_recently_used", RELAY_KEY_CACHE_SECONDS="0",
        DATABASE_URL=keyed.env["DATABASE_URL"]))
    ids = admin.pool(a=A, b=B, c=C)
    for _ in range(2):
        assert chat(lru, relay_key).status_code == 200
    admin.set_upstream_enabled(ids["a"], "a", False)
    for _ in range(2):
        assert chat(lru, relay_key).status_code == 200
    # Round robin would deal the next turn to b (turn 3 of the keys left, b and c); LRU takes c,
    # never used, then b.
    assert keys_sent(sim) == [A, B, C, B]


def test_both_mode_serves_relay_keys_from_the_pool_and_passes_other_keys_through(keyed, admin, relay_key, sim):
    both = keyed
    admin.pool(a=A)
    assert chat(both, relay_key).status_code == 200
    assert chat(both, "my-own-1min-key-xyz").status_code == 200
    assert keys_sent(sim) == [A, "my-own-1min-key-xyz"]

    unknown = chat(both, "rk-" + "x" * 43)
    assert unknown.status_code == 401 and len(keys_sent(sim)) == 2  # never passed through

    sim.configure(accept_any_key=False)
    sim.valid_keys.add(A)
    rejected = chat(both, "bad-own-key")  # the client's own key: its 401, no pool failover
    assert rejected.status_code == 401 and "Check the key you sent" in rejected.json()["error"]["message"]
    assert chat(both, relay_key).status_code == 200
