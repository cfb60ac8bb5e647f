"""When Redis is unreachable, RATE_LIMIT_FAIL_MODE decides: let calls through (counted) or refuse them."""
import httpx

from core.identity import fingerprint
from tests.openai_schema import validate
from tests.relay_operator import fresh_key, usage_of, wait_for_rows
from tests.relay_process import free_port

MESSAGES = [{"role": "user", "content": "hi"}]


def unreachable_redis() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"  # a port nobody listens on


def post(relay, key):
    return httpx.post(f"{relay.url}/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                      json={"model": "gpt-4o-mini", "messages": MESSAGES}, timeout=30)


def test_fail_open_lets_calls_through_and_records_them_as_unmetered(relay_factory, sim):
    relay = relay_factory(REDIS_URL=unreachable_redis(), RATE_LIMIT_FAIL_MODE="open",
                          RATE_LIMIT_REQUESTS_PER_MINUTE="1", USAGE_FLUSH_SECONDS="0.1")
    key = fresh_key()
    responses = [post(relay, key) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]  # over the limit of 1: nothing counts
    assert all("x-ratelimit-remaining-requests" not in r.headers for r in responses)
    rows = wait_for_rows(lambda: usage_of(relay, fingerprint(key)), 3)
    assert [row["unmetered"] for row in rows] == [True, True, True]
    assert "limits could not be checked (ConnectionError); failing open" in relay.logs()


def test_fail_closed_refuses_calls_with_503_and_retry_after(relay_factory, sim):
    relay = relay_factory(REDIS_URL=unreachable_redis(), RATE_LIMIT_FAIL_MODE="closed")
    response = post(relay, fresh_key())
    assert response.status_code == 503
    validate(response.json(), "ErrorResponse")
    assert response.json()["error"]["code"] == "rate_limiter_unavailable"
    assert response.headers["retry-after"] == "1"
    assert sim.requests_to("/api/chat-with-ai") == []
