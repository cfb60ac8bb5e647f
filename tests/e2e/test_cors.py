"""Browsers: /v1/ answers real CORS preflights for the headers the OpenAI SDKs send; the admin has no CORS."""
from __future__ import annotations

import httpx
import openai
import pytest

from tests.conftest import TEST_KEY

ORIGIN = "https://chat.example.com"
# What a browser never lists in Access-Control-Request-Headers (it sets them itself).
BROWSER_OWNED = {"host", "content-length", "connection", "accept-encoding", "user-agent"}


@pytest.fixture(scope="module")
def sdk_headers(simulator):
    """The header names the official SDK really sends, captured by pointing it at the simulator."""
    simulator.reset()
    with openai.OpenAI(base_url=f"{simulator.url}/v1", api_key=TEST_KEY, max_retries=0,
                       default_headers={"OpenAI-Beta": "assistants=v2"},
                       organization="org-1", project="proj-1") as sdk:
        with pytest.raises(openai.APIStatusError):
            sdk.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    (sent,) = simulator.requests_to("/v1/chat/completions")
    simulator.reset()
    names = sorted(set(sent["headers"]) - BROWSER_OWNED)
    assert any(n.startswith("x-stainless-") for n in names) and "authorization" in names
    return names


def preflight(relay, path: str, request_headers: list[str], origin: str = ORIGIN, method: str = "POST"):
    return httpx.options(f"{relay.url}{path}", headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": ", ".join(request_headers)})


def listed(response: httpx.Response, header: str) -> set[str]:
    return {h.strip().lower() for h in response.headers.get(header, "").split(",") if h.strip()}


def test_a_preflight_allows_every_header_the_sdk_sends(relay, sdk_headers):
    response = preflight(relay, "/v1/chat/completions", sdk_headers)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert set(sdk_headers) <= listed(response, "access-control-allow-headers")
    assert "access-control-request-headers" in response.headers["vary"].lower()


@pytest.mark.parametrize("header", ["authorization", "content-type", "x-api-key", "openai-beta", "openai-organization",
                                    "openai-project", "x-stainless-os", "x-stainless-retry-count",
                                    "x-stainless-timeout", "x-stainless-some-future-header"])
def test_each_client_header_is_allowed_for_every_endpoint(relay, header):
    for path in ("/v1/chat/completions", "/v1/models", "/v1/responses", "/v1/audio/transcriptions"):
        assert header in listed(preflight(relay, path, [header]), "access-control-allow-headers")


def test_headers_outside_the_patterns_are_not_allowed(relay):
    allowed = listed(preflight(relay, "/v1/chat/completions", ["authorization", "x-evil", "cookie"]),
                     "access-control-allow-headers")
    assert "authorization" in allowed and "x-evil" not in allowed and "cookie" not in allowed


def test_answers_expose_the_request_id_and_rate_limit_headers(relay, sim):
    response = httpx.post(f"{relay.url}/v1/chat/completions", headers={"Origin": ORIGIN, "Authorization": f"Bearer {TEST_KEY}"},
                          json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = listed(response, "access-control-expose-headers")
    assert {"x-request-id", "retry-after", "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests",
            "x-ratelimit-reset-requests", "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens",
            "x-ratelimit-reset-tokens"} <= exposed
    assert "access-control-allow-credentials" not in response.headers


def test_errors_and_streams_carry_cors_headers_so_a_browser_can_read_them(relay, sim):
    unauthorised = httpx.get(f"{relay.url}/v1/models", headers={"Origin": ORIGIN})
    assert unauthorised.status_code == 401 and unauthorised.headers["access-control-allow-origin"] == "*"
    with httpx.stream("POST", f"{relay.url}/v1/chat/completions",
                      headers={"Origin": ORIGIN, "Authorization": f"Bearer {TEST_KEY}"},
                      json={"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "hi"}]}) as streamed:
        assert streamed.headers["access-control-allow-origin"] == "*"
        streamed.read()


def test_the_admin_gets_no_cors(relay):
    for response in (preflight(relay, "/admin/login/", ["content-type"]),
                     httpx.get(f"{relay.url}/admin/login/", headers={"Origin": ORIGIN})):
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]


def test_configured_origins_narrow_who_may_call(relay_factory, sdk_headers):
    narrow = relay_factory(CORS_ALLOWED_ORIGINS=f"{ORIGIN},http://localhost:3000")
    allowed = preflight(narrow, "/v1/chat/completions", sdk_headers)
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert set(sdk_headers) <= listed(allowed, "access-control-allow-headers")
    other = preflight(narrow, "/v1/chat/completions", sdk_headers, origin="https://evil.example")
    assert "access-control-allow-origin" not in other.headers
