"""Upstream faults: each one ends in a clear OpenAI-style error (or error event) within the
configured timeouts, and only failures where 1min.ai cannot have run the call are retried."""
from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import TEST_KEY
from tests.openai_schema import validate
from tests.relay_process import free_port

CHAT = "/api/chat-with-ai"
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
# The relay under test gives up after 1 s (read) / 0.5 s (stream silence); the simulator stalls
# far longer, and the client allows 8 s: an answer at all proves the relay's own timeout fired.
STALL_MS = 30_000
CLIENT_TIMEOUT = 8.0


@pytest.fixture(scope="module")
def faulty(relay_factory):
    return relay_factory(UPSTREAM_READ_TIMEOUT="1", UPSTREAM_STREAM_IDLE_TIMEOUT="0.5",
                         UPSTREAM_CONNECT_TIMEOUT="1", UPSTREAM_RETRY_MAX_WAIT="2")


def post(relay, body=None) -> httpx.Response:
    return httpx.post(f"{relay.url}/v1/chat/completions", json=body or BODY, headers=AUTH, timeout=CLIENT_TIMEOUT)


def stream(relay) -> tuple[int, list]:
    """(status, parsed data payloads) of a streamed request; an HTTP error gives its JSON body."""
    with httpx.stream("POST", f"{relay.url}/v1/chat/completions", json={**BODY, "stream": True},
                      headers=AUTH, timeout=CLIENT_TIMEOUT) as response:
        if response.status_code != 200:
            return response.status_code, [json.loads(response.read())]
        payloads = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    return 200, [p if p == "[DONE]" else json.loads(p) for p in payloads]


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    validate(body, "ErrorResponse")
    assert body["error"]["code"] == code
    assert "<" not in body["error"]["message"], "no HTML or internals in the message"
    return body["error"]


def assert_error_event(payloads: list, code: str) -> dict:
    """The stream's last event is an error in the OpenAI envelope, after some content, with no [DONE]."""
    assert "[DONE]" not in payloads
    *chunks, last = payloads
    validate(last, "ErrorResponse")
    assert last["error"]["code"] == code
    for chunk in chunks:
        validate(chunk, "CreateChatCompletionStreamResponse")
    return last["error"]


def attempts(sim) -> int:
    return len(sim.requests_to(CHAT))


# ---- connect failure ---------------------------------------------------------------------------

def test_an_unreachable_upstream_is_a_502_after_the_retries(relay_factory, sim):
    closed = free_port()  # nothing listens there
    down = relay_factory(ONE_MIN_BASE_URL=f"http://127.0.0.1:{closed}", UPSTREAM_CONNECT_TIMEOUT="1")
    error = assert_error(post(down), 502, "upstream_error")
    assert error["message"] == "Could not reach 1min.ai."
    status, (body,) = stream(down)
    assert status == 502 and body["error"]["code"] == "upstream_error"
    # Each call was tried 1 + UPSTREAM_MAX_RETRIES (2) times; the log says so, without any key.
    assert sim.wait_for(lambda: down.logs().count(f"POST {CHAT} failed (ConnectError); retry 2 of 2") == 2)
    assert TEST_KEY not in down.logs()


# ---- slow headers, slow body -------------------------------------------------------------------

def test_slow_headers_are_a_504_and_not_retried(faulty, sim):
    sim.script({"delay_headers_ms": STALL_MS}, times=None)
    assert_error(post(faulty), 504, "upstream_timeout")
    assert attempts(sim) == 1  # the upstream may be running (and billing) the call: never resent
    assert sim.wait_for(lambda: sim.requests_to(CHAT)[0].get("client_disconnected"))


def test_slow_headers_on_a_stream_are_a_504_before_any_event(faulty, sim):
    sim.script({"delay_headers_ms": STALL_MS}, times=None)
    status, (body,) = stream(faulty)
    assert status == 504 and body["error"]["code"] == "upstream_timeout"
    assert attempts(sim) == 1


def test_a_slow_body_is_a_504(faulty, sim):
    sim.script({"delay_body_ms": STALL_MS}, times=None)
    assert_error(post(faulty), 504, "upstream_timeout")
    assert attempts(sim) == 1


def test_a_stream_whose_body_never_starts_is_a_504(faulty, sim):
    sim.script({"delay_body_ms": STALL_MS}, times=None)
    status, (body,) = stream(faulty)
    assert status == 504 and body["error"]["code"] == "upstream_timeout"
    assert attempts(sim) == 1


# ---- 5xx and the Cloudflare 522 page -----------------------------------------------------------

def test_a_500_is_a_502_and_not_retried(faulty, sim):
    sim.script({"status": 500, "message": "internal failure"}, times=None)
    error = assert_error(post(faulty), 502, "upstream_error")
    assert "HTTP 500" in error["message"]
    assert attempts(sim) == 1


@pytest.mark.parametrize("status", [502, 503])
def test_a_passing_gateway_error_is_retried_and_the_client_never_sees_it(faulty, sim, status):
    sim.script({"status": status})  # once; the retry gets the normal answer
    response = post(faulty)
    assert response.status_code == 200, response.text
    validate(response.json(), "CreateChatCompletionResponse")
    assert attempts(sim) == 2


def test_a_lasting_503_is_a_502_after_one_try_and_two_retries(faulty, sim):
    sim.script({"status": 503}, times=None)
    error = assert_error(post(faulty), 502, "upstream_error")
    assert "HTTP 503" in error["message"]
    assert attempts(sim) == 3


def test_a_cloudflare_522_html_page_is_a_clean_502(faulty, sim):
    sim.script({"status": 522, "envelope": "html"}, times=None)
    error = assert_error(post(faulty), 502, "upstream_error")
    assert error["message"] == "1min.ai failed with HTTP 522"
    assert attempts(sim) == 3


def test_a_522_on_a_stream_is_retried_before_the_stream_starts(faulty, sim):
    sim.script({"status": 522, "envelope": "html"})
    status, payloads = stream(faulty)
    assert status == 200 and payloads[-1] == "[DONE]"
    assert attempts(sim) == 2


# ---- 429 with Retry-After ----------------------------------------------------------------------

def test_a_429_is_retried_after_its_retry_after(faulty, sim):
    sim.script({"status": 429, "retry_after": "1"})
    response = post(faulty)
    assert response.status_code == 200, response.text
    first, second = sim.requests_to(CHAT)
    assert second["time"] - first["time"] >= 1.0  # the upstream's Retry-After was honoured


def test_a_429_asking_longer_than_the_cap_is_passed_on_with_its_retry_after(faulty, sim):
    sim.script({"status": 429, "retry_after": "30"}, times=None)
    response = post(faulty)
    assert_error(response, 429, "rate_limit_exceeded")
    assert response.headers["retry-after"] == "30"
    assert attempts(sim) == 1


# ---- invalid JSON ------------------------------------------------------------------------------

def test_a_body_that_is_not_json_is_a_502(faulty, sim):
    sim.script({"invalid_json": True}, times=None)
    error = assert_error(post(faulty), 502, "upstream_error")
    assert "not JSON" in error["message"]
    assert attempts(sim) == 1


def test_a_stream_whose_events_are_not_json_is_a_502(faulty, sim):
    sim.script({"invalid_json": True}, times=None)
    status, (body,) = stream(faulty)
    assert status == 502 and "not JSON" in body["error"]["message"]
    assert attempts(sim) == 1


# ---- an error body of megabytes (1min.ai echoing the prompt) -----------------------------------

def test_an_error_body_over_a_megabyte_still_maps_to_its_error(faulty, sim):
    details = {"response": {"status": 400, "data": {"message": "The size does not match the allowed size."}},
               "request": {"prompt": "lorem ipsum " * 200_000}}  # 2.4 MB, over large_json.LARGE_BYTES
    sim.script({"status": 400, "error_code": "EXTERNAL_API_RESPONSE_WITH_ERROR",
                "message": "The openai service is a bit busy", "details": details}, times=None)
    error = assert_error(post(faulty), 400, "EXTERNAL_API_RESPONSE_WITH_ERROR")
    assert error["message"] == "1min.ai's provider rejected the request: The size does not match the allowed size."
    status, (body,) = stream(faulty)
    assert status == 400 and body["error"]["message"] == error["message"]
    assert attempts(sim) == 2


# ---- streams that end badly: never retried once streaming began --------------------------------

@pytest.mark.parametrize("fault, says", [
    ({"omit_done": True, "omit_result": True}, "ended before the answer was complete"),
    ({"drop_after": 3}, "broke during the stream"),  # the chunked body is left unterminated
])
def test_a_stream_that_ends_without_done_ends_with_an_error_event(faulty, sim, fault, says):
    sim.script({"text": "a fairly long answer that is cut", **fault}, times=None)
    status, payloads = stream(faulty)
    assert status == 200
    error = assert_error_event(payloads, "upstream_error")
    assert says in error["message"]
    assert any(c["choices"] and c["choices"][0]["delta"].get("content") for c in payloads[:-1])
    assert attempts(sim) == 1


def test_a_stream_with_its_result_but_no_done_is_complete(faulty, sim):
    sim.script({"text": "all of it", "omit_done": True})
    status, payloads = stream(faulty)
    assert status == 200 and payloads[-1] == "[DONE]"
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in payloads[:-1] if c["choices"]) == "all of it"


def test_a_stalled_stream_ends_with_a_timeout_event_and_the_upstream_is_closed(faulty, sim):
    sim.script({"text": "the start of an answer that then stalls", "stall_after": 3, "stall_ms": STALL_MS},
               times=None)
    status, payloads = stream(faulty)
    assert status == 200
    error = assert_error_event(payloads, "upstream_timeout")
    assert "stopped sending" in error["message"]
    assert attempts(sim) == 1
    assert sim.wait_for(lambda: sim.requests_to(CHAT)[0].get("stream_closed_by_client"), timeout=2.0)


# ---- the same rules for the endpoints that arrived later ---------------------------------------

OTHER_ENDPOINTS = {
    "responses": ("/v1/responses", {"model": "gpt-4o-mini", "input": "hi"}, CHAT),
    "images": ("/v1/images/generations", {"model": "dall-e-3", "prompt": "a cat"}, "/api/features"),
    "speech": ("/v1/audio/speech", {"model": "tts-1", "input": "hello", "voice": "alloy"}, "/api/features"),
}


@pytest.mark.parametrize("name", list(OTHER_ENDPOINTS))
def test_a_passing_522_is_retried_on_every_endpoint(faulty, sim, name):
    path, body, upstream = OTHER_ENDPOINTS[name]
    sim.script({"status": 522, "envelope": "html"}, path=upstream)
    response = httpx.post(f"{faulty.url}{path}", json=body, headers=AUTH, timeout=CLIENT_TIMEOUT)
    assert response.status_code == 200, response.text[:300]
    assert len(sim.requests_to(upstream)) == 2


@pytest.mark.parametrize("name", list(OTHER_ENDPOINTS))
def test_a_500_or_slow_headers_are_errors_without_retries_on_every_endpoint(faulty, sim, name):
    path, body, upstream = OTHER_ENDPOINTS[name]
    for script, status, code in (({"status": 500}, 502, "upstream_error"),
                                 ({"delay_headers_ms": STALL_MS}, 504, "upstream_timeout")):
        sim.reset()
        sim.script(script, path=upstream, times=None)
        response = httpx.post(f"{faulty.url}{path}", json=body, headers=AUTH, timeout=CLIENT_TIMEOUT)
        assert_error(response, status, code)
        assert len(sim.requests_to(upstream)) == 1


def test_a_stalled_responses_stream_ends_with_a_failed_response(faulty, sim):
    sim.script({"text": "the start of an answer that then stalls", "stall_after": 3, "stall_ms": STALL_MS}, times=None)
    with httpx.stream("POST", f"{faulty.url}/v1/responses", headers=AUTH, timeout=CLIENT_TIMEOUT,
                      json={"model": "gpt-4o-mini", "input": "hi", "stream": True}) as response:
        events = [line[7:] for line in response.iter_lines() if line.startswith("event: ")]
    assert response.status_code == 200
    assert events[-1] == "response.failed"
    assert attempts(sim) == 1
