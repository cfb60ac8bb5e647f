"""Streaming chat completions: chunk shapes, ordering, fragmentation, errors and disconnects."""
import json
import socket

import httpx
import openai
import pytest

from tests.conftest import TEST_KEY
from tests.openai_schema import validate

REPLY = "Hello, 世界! 你好 👋🏽 — naïve café 🚀 and more text to split into many deltas."


def raw_stream(relay, body):
    """The relay's SSE body as (data payloads, raw text), read asynchronously chunk by chunk."""
    payloads = []
    with httpx.stream(
        "POST", f"{relay.url}/v1/chat/completions", json=body,
        headers={"Authorization": f"Bearer {TEST_KEY}"}, timeout=30,
    ) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                payloads.append(line[6:])
    return payloads


@pytest.mark.parametrize("chunk_size", [None, 1, 3, 7])
def test_joined_deltas_equal_the_upstream_reply_byte_for_byte(client, sim, chunk_size):
    script = {"text": REPLY}
    if chunk_size:
        script["chunk_size"] = chunk_size
    sim.script(script)
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == REPLY
    assert len({c.id for c in chunks}) == 1 and len({c.created for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert sim.requests_to("/api/chat-with-ai")[0]["query"].get("isStreaming") == "true"


def test_every_chunk_validates_and_usage_comes_last_when_asked(relay, sim):
    sim.script({"text": REPLY, "metadata": {"inputToken": 11, "outputToken": 22, "totalToken": 33}})
    payloads = raw_stream(relay, {
        "model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "hi"}],
    })
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    for chunk in chunks:
        validate(chunk, "CreateChatCompletionStreamResponse")
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["prompt_tokens"] == 11 and chunks[-1]["usage"]["completion_tokens"] == 22
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize("accept", ["text/event-stream", "text/plain", "application/xml"])
def test_any_accept_header_gets_the_answer_as_openai_gives_it(relay, sim, accept):
    """OpenAI answers whatever `Accept` says; the relay answered a 406 to `text/event-stream`."""
    sim.script({"text": "Hi there"})
    headers = {"Authorization": f"Bearer {TEST_KEY}", "Accept": accept}
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    with httpx.stream("POST", f"{relay.url}/v1/chat/completions", json={**body, "stream": True},
                      headers=headers, timeout=30) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        assert "data: [DONE]" in response.read().decode()
    sim.script({"text": "Hi there"})
    whole = httpx.post(f"{relay.url}/v1/chat/completions", json=body, headers=headers, timeout=30)
    assert whole.status_code == 200 and whole.headers["content-type"] == "application/json"
    assert whole.json()["choices"][0]["message"]["content"] == "Hi there"
    unknown = httpx.get(f"{relay.url}/v1/no-such-thing", headers=headers, timeout=30)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_url"


def test_a_duplicate_final_content_event_is_dropped(client, sim):
    sim.script({"text": REPLY, "duplicate_final": True})
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == REPLY


def test_multi_line_data_and_crlf_streams_are_understood(client, sim):
    sim.script({"text": REPLY, "multi_data_lines": True, "crlf": True, "chunk_size": 2})
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == REPLY


def test_an_error_before_any_content_is_a_real_http_error(client, sim):
    sim.script({"stream_error_before": "Model gpt-4o-mini is not supported"})
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True)
    assert "not supported" in caught.value.message


def test_an_error_after_content_becomes_an_error_event_and_the_stream_ends(client, sim):
    sim.script({"text": REPLY, "stream_error_after": 2, "message": "provider exploded"})
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True)
    received = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in stream:
            received.append(chunk)
    assert "provider exploded" in str(caught.value)
    assert received and received[0].choices[0].delta.role == "assistant"


def test_a_dropped_upstream_connection_is_reported_not_hidden(client, sim):
    sim.script({"text": REPLY, "drop_after": 2})
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True)
    with pytest.raises(openai.APIError):
        list(stream)


def test_streamed_stop_and_max_tokens_are_applied(client, sim):
    sim.script({"text": "alpha beta END gamma delta", "chunk_size": 3})
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True, stop="END")
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "alpha beta "
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_a_client_disconnect_closes_the_upstream_request_within_a_second(relay, sim):
    sim.script({"text": "x" * 4000, "chunk_size": 16, "chunk_delay_ms": 20})
    cut_before = relay.logs().count("stream cut short: endpoint=chat.completions")
    with httpx.stream(
        "POST", f"{relay.url}/v1/chat/completions", headers={"Authorization": f"Bearer {TEST_KEY}"},
        json={"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "x"}]}, timeout=30,
    ) as response:
        received = b""
        for piece in response.iter_raw():
            received += piece
            if received.count(b"data: ") >= 3:
                break  # some content has arrived: hang up mid-answer
    # Leaving the block closed the connection; the relay must let go of 1min.ai within a second.
    assert sim.wait_for(
        lambda: any(r.get("stream_closed_by_client") for r in sim.requests_to("/api/chat-with-ai")), timeout=1.0
    )
    (upstream,) = sim.requests_to("/api/chat-with-ai")
    assert sim.wait_for(lambda: upstream_writes(sim) is not None, timeout=1.0)
    assert upstream_writes(sim) < 4000 // 16, "the upstream stream was stopped, not read to its end"
    # The call is marked cut short and keeps the usage of what was delivered.
    assert sim.wait_for(lambda: relay.logs().count("stream cut short: endpoint=chat.completions") > cut_before)
    line = [l for l in relay.logs().splitlines() if "stream cut short: endpoint=chat.completions" in l][-1]
    assert "model=gpt-4o-mini" in line and "completion_tokens=0" not in line


def upstream_writes(sim):
    sizes = sim.requests_to("/api/chat-with-ai")[0].get("stream_write_sizes")
    return None if sizes is None else len(sizes)


def test_a_client_that_gives_up_on_a_slow_answer_closes_the_upstream_request(relay, sim):
    sim.script({"delay_headers_ms": 20_000})
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}).encode()
    with socket.create_connection(("127.0.0.1", relay.port)) as conn:
        conn.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {TEST_KEY}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
        )
        assert sim.wait_for(lambda: len(sim.requests_to("/api/chat-with-ai")) == 1)
    # The client hung up while 1min.ai was still thinking: the relay drops its request too.
    assert sim.wait_for(
        lambda: sim.requests_to("/api/chat-with-ai")[0].get("client_disconnected"), timeout=1.0
    )


def test_the_httpx_transport_fallback_relays_chat_and_streams_alike(relay_factory, sim):
    """UPSTREAM_TRANSPORT=httpx swaps the lean client for httpx's own under the same seam."""
    relay = relay_factory(UPSTREAM_TRANSPORT="httpx")
    client = openai.OpenAI(base_url=f"{relay.url}/v1", api_key=TEST_KEY, max_retries=0)
    sim.script({"text": REPLY, "chunk_size": 3})
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == REPLY
    sim.script({"text": REPLY})
    answer = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == REPLY
    assert "Traceback" not in relay.logs()


def test_a_stream_event_or_error_body_past_the_response_cap_is_refused(relay_factory, sim):
    """Streams are bounded too: one event (or a line that never ends) past its cap, and a streamed
    call's error body past UPSTREAM_MAX_RESPONSE_BYTES, are refused rather than held in memory."""
    # The model lists fit; one event may be as large as the larger of this cap and twice the
    # largest request body (1min.ai's result event echoes the prompt).
    relay = relay_factory(UPSTREAM_MAX_RESPONSE_BYTES="65536", MAX_JSON_BODY_BYTES="16384")
    client = openai.OpenAI(base_url=f"{relay.url}/v1", api_key=TEST_KEY, max_retries=0)
    sim.script({"text": "x" * 100_000, "chunk_size": 100_000})  # after 1min.ai's empty first event
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True)
    with pytest.raises(openai.APIError, match="larger than the relay accepts"):
        for _ in stream:
            pass
    sim.script({"text": "ok " * 100, "chunk_size": 3})  # many small events: the cap is per event
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "ok " * 100
    sim.script({"status": 400, "message": "m" * 100_000})  # an error body beyond the cap
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True)
    assert caught.value.status_code == 502 and "larger than the relay accepts" in caught.value.message
    assert "Traceback" not in relay.logs()
