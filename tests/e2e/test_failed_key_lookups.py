"""A client spraying made-up relay keys gets 429s once past RELAY_KEY_FAILED_LOOKUPS_PER_MINUTE."""
import httpx

from keys import crypto
from tests.openai_schema import validate
from tests.relay_admin import managed_env
from tests.relay_operator import fresh_ip

LIMIT = 5


def test_past_the_failed_lookup_limit_unknown_keys_get_429_with_retry_after(relay_factory, sim):
    relay = relay_factory(**managed_env(RELAY_KEY_FAILED_LOOKUPS_PER_MINUTE=str(LIMIT), TRUSTED_PROXIES="127.0.0.1/32"))
    sprayer, bystander = fresh_ip(), fresh_ip()

    def models(key: str, ip: str) -> httpx.Response:
        return httpx.get(f"{relay.url}/v1/models", headers={"Authorization": f"Bearer {key}", "X-Forwarded-For": ip})

    responses = [models(crypto.new_relay_key(), sprayer) for _ in range(LIMIT + 3)]
    assert [r.status_code for r in responses] == [401] * LIMIT + [429] * 3
    refused = responses[-1]
    validate(refused.json(), "ErrorResponse")
    assert refused.json()["error"]["code"] == "too_many_failed_key_lookups"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert models(crypto.new_relay_key(), bystander).status_code == 401  # another client is not refused
