"""Error messages never hand out a secret or echo a megabyte: 1min.ai's text is redacted of known
keys and key-shaped tokens, and client input quoted back is truncated."""
import httpx

from tests.relay_admin import chat

CALLER_KEY = "caller-own-1min-key-7f3e"
POOL_A, POOL_B = "pool-key-redact-aaaa", "pool-key-redact-bbbb"


def post_chat(relay, key, model="gpt-4o-mini"):
    return httpx.post(f"{relay.url}/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                      json={"model": model, "messages": [{"role": "user", "content": "hi"}]}, timeout=30)


def test_the_callers_key_and_bearer_tokens_quoted_by_1min_are_redacted(relay, sim):
    sim.script({"status": 400, "error_code": "INVALID_REQUEST",
                "message": f"Key {CALLER_KEY} cannot use this model. Header was Bearer abc.def-123 and "
                           "api_key=zz9plural0alpha, sk-proj-ABCDEFGHIJKLMNOPQRSTUV and "
                           "0123456789abcdef0123456789abcdef01"})
    response = post_chat(relay, CALLER_KEY)
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    for secret in (CALLER_KEY, "abc.def-123", "zz9plural0alpha", "sk-proj-ABCDEFGHIJKLMNOPQRSTUV",
                   "0123456789abcdef0123456789abcdef01"):
        assert secret not in message
    assert "cannot use this model" in message and "[redacted]" in message


def test_every_pool_key_quoted_by_1min_is_redacted(keyed_relay, keyed_admin, sim):
    keyed_admin.pool(a=POOL_A, b=POOL_B)
    relay_key = keyed_admin.add_relay_key("redaction-tester")[1]
    sim.script({"status": 400, "error_code": "INVALID_REQUEST",
                "message": f"Keys {POOL_A} and {POOL_B} belong to a suspended team."})
    response = chat(keyed_relay, relay_key)
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert POOL_A not in message and POOL_B not in message
    assert "suspended team" in message


def test_a_megabyte_model_name_is_not_echoed_back_whole(relay, sim):
    response = post_chat(relay, "sk-test-1min-key-0123456789", model="m" * 1_000_000)
    assert response.status_code in (400, 404)
    assert len(response.content) < 4096
