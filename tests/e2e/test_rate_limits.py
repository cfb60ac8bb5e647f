"""Rate limits per client IP and key: OpenAI's headers, 429 with Retry-After, exact counts across processes."""
import asyncio
import re
import uuid

import httpx
import openai
import pytest

from core.token_counting import count_messages
from tests.openai_schema import validate
from tests.quota_fixtures import RPM, TPM, Client, assign_policy, limited, limited_relays, wait_until_applied  # noqa: F401

DURATION = re.compile(r"^(\d+ms|(\d+h)?(\d+m)?\d+(\.\d+)?s)$")
MESSAGES = [{"role": "user", "content": "hi"}]


def script_exact_usage(sim, max_tokens):
    """Make 1min.ai report exactly what the relay reserves, so settling changes nothing."""
    prompt = count_messages(MESSAGES, "gpt-4o-mini")
    sim.script({"text": "ok", "metadata": {"inputToken": prompt, "outputToken": max_tokens,
                                           "totalToken": prompt + max_tokens}}, times=None)
    return prompt + max_tokens


def assert_rate_headers(response, requests_limit=RPM):
    assert response.headers["x-ratelimit-limit-requests"] == str(requests_limit)
    assert int(response.headers["x-ratelimit-remaining-requests"]) >= 0
    assert DURATION.match(response.headers["x-ratelimit-reset-requests"])
    assert response.headers["x-ratelimit-limit-tokens"] == str(TPM)
    assert int(response.headers["x-ratelimit-remaining-tokens"]) >= 0
    assert DURATION.match(response.headers["x-ratelimit-reset-tokens"])


def test_every_v1_response_carries_the_rate_limit_headers(limited, sim):
    caller = Client([limited])
    url = limited.url
    responses = [
        caller.chat(),
        caller.chat(messages="not a list"),
        httpx.get(f"{url}/v1/models", headers=caller.headers()),
        httpx.get(f"{url}/v1/no-such-endpoint", headers=caller.headers()),
        httpx.post(f"{url}/v1/chat/completions", content=b"{broken", headers={**caller.headers(), "Content-Type": "application/json"}),
    ]
    with httpx.stream("POST", f"{url}/v1/chat/completions", headers=caller.headers(),
                      json={"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}) as stream:
        stream.read()
        responses.append(stream)
    assert [r.status_code for r in responses] == [200, 400, 200, 404, 400, 200]
    for response in responses:
        assert_rate_headers(response)
    remaining = [int(r.headers["x-ratelimit-remaining-requests"]) for r in responses]
    assert remaining == [RPM - n for n in range(1, len(responses) + 1)]
    keyless = httpx.get(f"{url}/v1/models", headers={"X-Forwarded-For": caller.ip})
    assert keyless.status_code == 401
    assert keyless.headers["x-ratelimit-remaining-requests"] == str(RPM - len(responses) - 1)


def test_the_request_over_the_limit_gets_429_with_retry_after_in_openais_envelope(limited, sim):
    caller = Client([limited])
    for n in range(RPM):
        response = caller.chat()
        assert response.status_code == 200
        assert response.headers["x-ratelimit-remaining-requests"] == str(RPM - n - 1)
    refused = caller.chat()
    assert refused.status_code == 429
    validate(refused.json(), "ErrorResponse")
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")
    assert f"Limit {RPM}, Used {RPM}, Requested 1" in error["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert 0 < int(refused.headers["retry-after-ms"]) <= 60_000
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    assert len(sim.requests_to("/api/chat-with-ai")) == RPM  # the refused call never reached 1min.ai
    with openai.OpenAI(base_url=f"{limited.url}/v1", api_key=caller.key, max_retries=0,
                       default_headers={"X-Forwarded-For": caller.ip}) as sdk:
        with pytest.raises(openai.RateLimitError):
            sdk.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


def test_tokens_per_minute_are_reserved_and_refused_with_type_tokens(limited, sim):
    caller = Client([limited])
    cost = script_exact_usage(sim, 2000)
    first = caller.chat(max_tokens=2000)
    assert first.status_code == 200
    assert first.headers["x-ratelimit-remaining-tokens"] == str(TPM - cost)
    refused = caller.chat(max_tokens=2000)
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "tokens"
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert f"Limit {TPM}, Used {cost}, Requested {cost}" in refused.json()["error"]["message"]
    assert int(refused.headers["retry-after"]) >= 1


def test_a_request_that_can_never_fit_is_refused_outright_not_with_429(limited, sim):
    caller = Client([limited])
    refused = caller.chat(max_tokens=TPM + 1)
    assert refused.status_code == 413
    validate(refused.json(), "ErrorResponse")
    assert refused.json()["error"]["code"] == "request_too_large"
    assert refused.json()["error"]["param"] == "max_tokens"
    assert "retry-after" not in refused.headers
    assert caller.chat(max_tokens=10).status_code == 200  # and it did not use up anything


def test_reservations_are_settled_to_the_real_token_count(limited, sim):
    caller = Client([limited])
    prompt = count_messages(MESSAGES, "gpt-4o-mini")
    first = caller.chat()  # no max_tokens: the default output allowance is reserved meanwhile
    used = first.json()["usage"]["total_tokens"]
    assert used < 100
    second = caller.chat(max_tokens=50)
    assert second.headers["x-ratelimit-remaining-tokens"] == str(TPM - used - (prompt + 50))


def test_a_streamed_answer_is_settled_when_the_stream_ends(limited, sim):
    caller = Client([limited])
    with httpx.stream("POST", f"{limited.url}/v1/chat/completions", headers=caller.headers(), json={
        "model": "gpt-4o-mini", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True},
    }) as stream:
        lines = [line for line in stream.iter_lines() if line.startswith("data: {")]
    import json

    used = json.loads(lines[-1][6:])["usage"]["total_tokens"]
    after = caller.chat(max_tokens=1)
    prompt = count_messages(MESSAGES, "gpt-4o-mini")
    assert after.headers["x-ratelimit-remaining-tokens"] == str(TPM - used - (prompt + 1))


async def _burst(relays, caller: Client, count: int, **body) -> list[int]:
    payload = {"model": "gpt-4o-mini", "messages": MESSAGES, **body}
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=count)) as http:
        responses = await asyncio.gather(*(
            http.post(f"{relays[n % len(relays)].url}/v1/chat/completions", json=payload, headers=caller.headers())
            for n in range(count)
        ))
    return [r.status_code for r in responses]


def test_a_concurrent_burst_across_processes_admits_exactly_the_request_limit(limited_relays, sim):
    caller = Client(limited_relays)
    statuses = asyncio.run(_burst(limited_relays, caller, RPM * 3, max_tokens=1))
    assert statuses.count(200) == RPM
    assert statuses.count(429) == RPM * 2


def test_a_concurrent_burst_across_processes_admits_exactly_the_token_limit(limited_relays, sim):
    caller = Client(limited_relays)
    prompt = count_messages(MESSAGES, "gpt-4o-mini")
    cost = script_exact_usage(sim, 700 - prompt)
    statuses = asyncio.run(_burst(limited_relays, caller, 12, max_tokens=700 - prompt))
    assert cost == 700
    assert statuses.count(200) == TPM // cost
    assert statuses.count(429) == 12 - TPM // cost


def test_a_concurrent_burst_across_processes_admits_exactly_the_daily_budget(limited_relays, sim):
    caller = Client(limited_relays)
    assign_policy(limited_relays[0], caller, f"budget-{uuid.uuid4().hex[:8]}", "--daily", "2500", "--tpm", "0")
    wait_until_applied(limited_relays, caller)
    prompt = count_messages(MESSAGES, "gpt-4o-mini")
    script_exact_usage(sim, 700 - prompt)
    statuses = asyncio.run(_burst(limited_relays, caller, 10, max_tokens=700 - prompt))
    assert statuses.count(200) == 3  # 3 × 700 fit in 2500 (with the probes' few tokens); a 4th does not
    refused = caller.chat(max_tokens=700 - prompt)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("insufficient_quota", "insufficient_quota")
    assert 1 <= int(refused.headers["retry-after"]) <= 86400
