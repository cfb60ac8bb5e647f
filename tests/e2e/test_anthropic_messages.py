"""POST /v1/messages and /v1/messages/count_tokens through the official anthropic SDK, daphne and the simulator."""
from __future__ import annotations

import base64
import json

import anthropic
import httpx
import pydantic
import pytest
from anthropic.types import Message, MessageTokensCount, RawMessageStreamEvent

from core.identity import fingerprint
from quotas.token_estimate import from_body
from tests.conftest import TEST_KEY
from tests.e2e.test_vision import tiny_png
from tests.relay_operator import fresh_key, usage_of, wait_for_rows

MODEL = "gpt-4o-mini"
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def claude(relay, sim):
    """The official Anthropic SDK pointed at the relay, retries off so errors show as they are."""
    with anthropic.Anthropic(base_url=relay.url, api_key=TEST_KEY, max_retries=0, timeout=30) as c:
        yield c


def strictly(model_type, payload):
    """`payload` parsed as the SDK's type, with no field the SDK does not know, at any depth."""
    parsed = pydantic.TypeAdapter(model_type).validate_python(payload)

    def walk(value, where):
        if isinstance(value, pydantic.BaseModel):
            assert not value.model_extra, f"unknown fields at {where}: {value.model_extra}"
            for name in type(value).model_fields:
                walk(getattr(value, name), f"{where}.{name}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{where}[{i}]")

    walk(parsed, type(parsed).__name__)
    return parsed


def prompt_sent(sim) -> str:
    return sim.requests_to("/api/chat-with-ai")[-1]["json"]["promptObject"]["prompt"]


def raw_events(relay, body, key=TEST_KEY) -> list[tuple[str, dict]]:
    """(event name, data) pairs of a streamed call, read as they arrive."""
    events, name = [], None
    with httpx.stream("POST", f"{relay.url}/v1/messages", json={**body, "stream": True}, timeout=30,
                      headers={"x-api-key": key, "anthropic-version": "2023-06-01"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[len("data: "):])))
    return events


def test_a_message_in_anthropics_exact_shape_from_a_multi_turn_conversation_with_system_blocks(claude, sim):
    sim.script({"text": "Paris.", "metadata": {"inputToken": 40, "outputToken": 2, "totalToken": 42, "credit": 7}})
    raw = claude.messages.with_raw_response.create(
        model=MODEL, max_tokens=300,
        system=[{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "Answer in English."}],
        messages=[{"role": "user", "content": "Capital of Italy?"},
                  {"role": "assistant", "content": [{"type": "text", "text": "Rome."}]},
                  {"role": "user", "content": [{"type": "text", "text": "And of France?"}]}],
        metadata={"user_id": "u-1"}, extra_body={"temperature": 0.3, "top_p": 0.9, "top_k": 40},
        extra_headers={"anthropic-beta": "prompt-caching-2024-07-31,interleaved-thinking-2025-05-14"},
    )
    assert raw.status_code == 200 and raw.headers["request-id"].startswith("req_")
    body = json.loads(raw.http_response.text)
    message = strictly(Message, body)
    assert set(body) == {"id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"}
    assert message.id.startswith("msg_") and message.type == "message" and message.role == "assistant"
    assert message.model == MODEL and [b.model_dump() for b in message.content] == [{"type": "text", "text": "Paris.", "citations": None}]
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    assert (message.usage.input_tokens, message.usage.output_tokens) == (40, 2)
    assert prompt_sent(sim) == (
        "System: Be brief.\n\nAnswer in English.\n\nHuman: Capital of Italy?\n\nAssistant: Rome.\n\n"
        "Human: And of France?\n\nAssistant:"
    )
    sent = json.dumps(sim.requests_to("/api/chat-with-ai")[-1]["json"])
    assert "temperature" not in sent and "u-1" not in sent and "top_k" not in sent


def test_stop_sequences_and_max_tokens_are_applied_by_the_relay(claude, sim):
    sim.script({"text": "alpha beta END gamma"})
    stopped = claude.messages.create(model=MODEL, max_tokens=100, messages=HI, stop_sequences=["XYZ", "END"])
    assert stopped.content[0].text == "alpha beta "
    assert (stopped.stop_reason, stopped.stop_sequence) == ("stop_sequence", "END")
    sim.script({"text": "one two three four five six seven"})
    cut = claude.messages.create(model=MODEL, max_tokens=2, messages=HI)
    assert (cut.content[0].text, cut.stop_reason, cut.usage.output_tokens) == ("one two", "max_tokens", 2)


def test_it_streams_anthropics_event_sequence_that_the_sdk_assembles(claude, relay, sim):
    sim.script({"text": "Hello there, world", "metadata": {"inputToken": 11, "outputToken": 4, "totalToken": 15}})
    events = raw_events(relay, {"model": MODEL, "max_tokens": 50, "messages": HI})
    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[3:-3] == ["content_block_delta"] * (len(names) - 6)
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    for name, data in events:
        assert data["type"] == name
        strictly(RawMessageStreamEvent, data) if name != "ping" else None
    assert "".join(d["delta"]["text"] for n, d in events if n == "content_block_delta") == "Hello there, world"
    start = events[0][1]["message"]
    assert start["stop_reason"] is None and start["content"] == [] and start["id"].startswith("msg_")
    delta = events[-2][1]
    assert delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert (delta["usage"]["input_tokens"], delta["usage"]["output_tokens"]) == (11, 4)

    sim.script({"text": "one two STOP three"})
    with claude.messages.stream(model=MODEL, max_tokens=50, messages=HI, stop_sequences=["STOP"]) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == "one two " == final.content[0].text
    assert (final.stop_reason, final.stop_sequence) == ("stop_sequence", "STOP")


def test_a_stream_starts_with_the_reserved_prompt_and_ends_with_the_count_of_the_prompt_sent(claude, relay, sim):
    sim.configure(metadata_mode="zeros")
    sim.script({"text": "four five six"})
    body = {"model": MODEL, "max_tokens": 20, "system": "You are terse.", "messages": HI}
    events = raw_events(relay, {**body, "stream": True})
    # message_start comes before 1min.ai reports anything: the reservation's count, made once at admission.
    assert events[0][1]["message"]["usage"]["input_tokens"] == from_body(body, True).prompt_tokens
    counted = claude.messages.count_tokens(model=MODEL, system="You are terse.", messages=HI).input_tokens
    assert (events[-2][1]["usage"]["input_tokens"], events[-2][1]["usage"]["output_tokens"]) == (counted, 3)


def test_a_failure_after_the_first_byte_is_an_error_event_in_anthropics_envelope(claude, relay, sim):
    sim.script({"stream_error_after": 3, "message": "provider exploded"})
    events = raw_events(relay, {"model": MODEL, "max_tokens": 50, "messages": HI})
    assert events[0][0] == "message_start" and events[-1][0] == "error"
    assert events[-1][1] == {"type": "error", "error": {"type": "api_error", "message": events[-1][1]["error"]["message"]}}
    assert "provider exploded" in events[-1][1]["error"]["message"]
    sim.script({"stream_error_after": 3, "message": "provider exploded"})
    with pytest.raises(anthropic.APIStatusError) as caught:
        with claude.messages.stream(model=MODEL, max_tokens=50, messages=HI) as stream:
            stream.until_done()
    assert caught.value.body["error"]["type"] == "api_error"


def test_count_tokens_gives_the_input_tokens_create_reports_when_1min_ai_reports_none(claude, sim):
    sim.configure(metadata_mode="zeros")
    conversation = dict(model=MODEL, system="You are terse.",
                        messages=[{"role": "user", "content": [{"type": "text", "text": "Name three colours."}]}])
    counted = claude.messages.count_tokens(**conversation)
    raw = claude.messages.with_raw_response.count_tokens(**conversation)
    assert set(json.loads(raw.http_response.text)) == {"input_tokens"}
    strictly(MessageTokensCount, json.loads(raw.http_response.text))
    created = claude.messages.create(max_tokens=20, **conversation)
    assert counted.input_tokens == created.usage.input_tokens > 0
    assert len(sim.requests_to("/api/chat-with-ai")) == 1  # counting asks 1min.ai nothing


def test_images_go_through_the_image_input_path_and_documents_are_refused(claude, sim):
    png = tiny_png()
    url = sim.publish("cat.png", png, "image/png")
    claude.messages.create(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": [
        {"type": "text", "text": "Compare"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(png).decode()}},
        {"type": "image", "source": {"type": "url", "url": url}},
    ]}])
    uploads = sim.requests_to("/api/assets")
    assert [u["form"]["files"][0]["data"] for u in uploads] == [png, png]
    assert len(sim.requests_to("/api/chat-with-ai")[-1]["attachments_seen"]) == 2
    assert prompt_sent(sim) == "Compare\n[image 1]\n[image 2]"

    calls = len(sim.requests_to("/api/chat-with-ai"))
    with pytest.raises(anthropic.BadRequestError) as caught:
        claude.messages.create(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": [
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}}]}])
    assert caught.value.body["error"]["type"] == "invalid_request_error"
    assert "messages.0.content.0.type" in caught.value.message and "document" in caught.value.message
    assert len(sim.requests_to("/api/chat-with-ai")) == calls


def test_each_error_is_a_typed_sdk_exception_in_anthropics_envelope(relay, relay_factory, sim):
    def envelope(error, kind):
        assert error.body == {"type": "error", "error": {"type": kind, "message": error.body["error"]["message"]}}
        assert error.response.headers["request-id"].startswith("req_")

    nokey = httpx.post(f"{relay.url}/v1/messages", json={"model": MODEL, "max_tokens": 5, "messages": HI})
    assert nokey.status_code == 401 and nokey.headers["request-id"].startswith("req_")
    assert nokey.json()["type"] == "error" and nokey.json()["error"]["type"] == "authentication_error"
    assert "x-api-key" in nokey.json()["error"]["message"]

    with anthropic.Anthropic(base_url=relay.url, api_key="bad-key", max_retries=0) as refused:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            refused.messages.create(model=MODEL, max_tokens=5, messages=HI)
    envelope(caught.value, "authentication_error")
    assert "1min.ai rejected the API key" in caught.value.body["error"]["message"]

    response = httpx.post(f"{relay.url}/v1/messages", headers={"x-api-key": TEST_KEY},
                          json={"model": MODEL, "messages": HI})
    assert response.status_code == 400
    assert response.json() == {"type": "error", "error": {"type": "invalid_request_error",
                                                          "message": "max_tokens: Field required"}}

    garbled = httpx.post(f"{relay.url}/v1/messages/count_tokens", headers={"x-api-key": TEST_KEY,
                         "content-type": "application/json"}, content=b'{"model": ')
    assert garbled.status_code == 400 and garbled.json()["error"]["type"] == "invalid_request_error"
    assert "JSON" in garbled.json()["error"]["message"]

    with anthropic.Anthropic(base_url=relay.url, api_key=TEST_KEY, max_retries=0) as claude:
        with pytest.raises(anthropic.NotFoundError) as caught:
            claude.messages.create(model="no-such-model", max_tokens=5, messages=HI)
        envelope(caught.value, "not_found_error")
        sim.script({"status": 500, "message": "boom"}, times=None)
        with pytest.raises(anthropic.InternalServerError) as caught:
            claude.messages.create(model=MODEL, max_tokens=5, messages=HI)
        envelope(caught.value, "api_error")
        sim.reset()
        sim.script({"status": 503, "message": "busy"}, times=None)  # lasting, past the relay's retries
        with pytest.raises(anthropic.OverloadedError) as caught:
            claude.messages.create(model=MODEL, max_tokens=5, messages=HI)
        assert caught.value.status_code == 529
        envelope(caught.value, "overloaded_error")
        sim.reset()

    # Also the stock Django/adrf/DRF path (FRAMEWORK_FAST_PATHS=false) renders Anthropic's shapes.
    limited = relay_factory(RATE_LIMIT_REQUESTS_PER_MINUTE="1", MAX_JSON_BODY_BYTES="2048", FRAMEWORK_FAST_PATHS="false")
    too_big = httpx.post(f"{limited.url}/v1/messages", headers={"x-api-key": TEST_KEY},
                         content=b"{" + b" " * 4096 + b"}")
    assert too_big.status_code == 413 and too_big.json()["error"]["type"] == "request_too_large"
    with anthropic.Anthropic(base_url=limited.url, api_key=fresh_key(), max_retries=0) as claude:
        sim.script({"text": "fine"})
        assert claude.messages.create(model=MODEL, max_tokens=5, messages=HI).content[0].text == "fine"
        with pytest.raises(anthropic.RateLimitError) as caught:
            claude.messages.create(model=MODEL, max_tokens=5, messages=HI)
    envelope(caught.value, "rate_limit_error")
    assert int(caught.value.response.headers["retry-after"]) >= 1


def test_claude_codes_request_shape_is_accepted_recorded_and_allowed_by_cors(relay, sim):
    key = fresh_key()
    body = {
        "model": MODEL, "max_tokens": 128000, "stream": False,
        "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "system", "content": "Reminder: be careful."},
                     {"role": "user", "content": [{"type": "text", "text": "hello", "cache_control": {"type": "ephemeral"}}]}],
        "thinking": {"type": "enabled", "budget_tokens": 31999}, "context_management": {"edits": []},
        "output_config": {"effort": "high"}, "metadata": {"user_id": "user_abc_account_x_session_y"},
        "tools": [{**WEATHER, "cache_control": {"type": "ephemeral"}},
                  {"name": "Bash", "description": "Run a command.", "defer_loading": True,
                   "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}],
        "tool_choice": {"type": "auto"},
    }
    headers = {"x-api-key": key, "anthropic-version": "2023-06-01",
               "anthropic-beta": "claude-code-20250219,oauth-2025-04-20,interleaved-thinking-2025-05-14"}
    response = httpx.post(f"{relay.url}/v1/messages?beta=true", headers=headers, json=body, timeout=30)
    assert response.status_code == 200, response.text
    strictly(Message, response.json())
    prompt = prompt_sent(sim)
    assert prompt.startswith("System: You are Claude Code.\n\nSystem: Reminder: be careful.\n\nSystem: You can call")
    assert prompt.endswith("\n\nHuman: hello\n\nAssistant:")
    assert "`Bash`" in prompt_sent(sim)
    (row,) = wait_for_rows(lambda: usage_of(relay, fingerprint(key)), 1)
    assert (row["endpoint"], row["model"], row["status"]) == ("messages", MODEL, 200)
    assert row["completion_tokens"] > 0
    streamed = raw_events(relay, {**body, "max_tokens": 64000}, key=key)
    assert streamed[-1][0] == "message_stop" and streamed[-2][1]["delta"]["stop_reason"] == "end_turn"

    preflight = httpx.options(f"{relay.url}/v1/messages", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-api-key,anthropic-version,anthropic-beta,"
                                          "anthropic-dangerous-direct-browser-access,content-type"})
    allowed = {h.strip() for h in preflight.headers["access-control-allow-headers"].split(",")}
    assert {"x-api-key", "anthropic-version", "anthropic-beta", "anthropic-dangerous-direct-browser-access"} <= allowed

    document = httpx.get(f"{relay.url}/v1/openapi.json").json()
    assert {"post"} <= set(document["paths"]["/v1/messages"]) and "post" in document["paths"]["/v1/messages/count_tokens"]
    assert document["paths"]["/v1/messages"]["post"]["responses"]["529"]


WEATHER = {"name": "get_weather", "description": "Current weather for a city.",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


def tool_call(name, arguments) -> str:
    return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>"


def test_a_full_tool_use_and_tool_result_loop(claude, sim):
    question = [{"role": "user", "content": "Weather in Paris?"}]
    sim.script({"text": tool_call("get_weather", {"city": "Paris"})})
    raw = claude.messages.with_raw_response.create(model=MODEL, max_tokens=200, tools=[WEATHER], messages=question)
    first = strictly(Message, json.loads(raw.http_response.text))
    assert first.stop_reason == "tool_use" and [b.type for b in first.content] == ["tool_use"]
    (use,) = first.content
    assert use.id.startswith("toolu_") and (use.name, use.input) == ("get_weather", {"city": "Paris"})
    assert "get_weather" in prompt_sent(sim) and "<tool_call>" in prompt_sent(sim)

    sim.script({"text": "It is 18C in Paris."})
    second = claude.messages.create(model=MODEL, max_tokens=200, tools=[WEATHER], messages=[
        *question, {"role": "assistant", "content": first.content},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": [{"type": "text", "text": "18C"}]}]},
    ])
    assert (second.stop_reason, second.content[0].text) == ("end_turn", "It is 18C in Paris.")
    prompt = prompt_sent(sim)
    assert tool_call("get_weather", {"city": "Paris"}) in prompt
    assert f'<tool_result call_id="{use.id}" name="get_weather">18C</tool_result>' in prompt

    counted_with = claude.messages.count_tokens(model=MODEL, tools=[WEATHER], messages=question).input_tokens
    assert counted_with > claude.messages.count_tokens(model=MODEL, messages=question).input_tokens

    sim.script({"text": "no idea"}, times=2)  # the reply and its one repair: neither calls the tool
    with pytest.raises(anthropic.InternalServerError) as caught:
        claude.messages.create(model=MODEL, max_tokens=200, tools=[WEATHER], messages=question,
                               tool_choice={"type": "tool", "name": "get_weather"})
    assert caught.value.status_code == 502 and caught.value.body["error"]["type"] == "api_error"
    assert len(sim.requests_to("/api/chat-with-ai")) == 4  # two turns, then the reply and its repair


def test_tool_calls_stream_as_tool_use_blocks_with_input_json_deltas(claude, relay, sim):
    reply = "Let me check.\n" + tool_call("get_weather", {"city": "Paris"}) + "\n" + tool_call("get_weather", {"city": "Rome"})
    sim.script({"text": reply})
    events = raw_events(relay, {"model": MODEL, "max_tokens": 200, "tools": [WEATHER], "messages": HI})
    for name, data in events:
        assert data["type"] == name
        if name != "ping":
            strictly(RawMessageStreamEvent, data)
    compact = [(n, d.get("index"), d.get("content_block", {}).get("type") or d.get("delta", {}).get("type")) for n, d in events]
    assert compact[:3] == [("message_start", None, None), ("content_block_start", 0, "text"), ("ping", None, None)]
    starts = [(i, kind) for n, i, kind in compact if n == "content_block_start"]
    assert starts == [(0, "text"), (1, "tool_use"), (2, "tool_use")]
    assert {kind for n, i, kind in compact if n == "content_block_delta" and i > 0} == {"input_json_delta"}
    assert [n for n, _, _ in compact[-2:]] == ["message_delta", "message_stop"]
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"

    sim.script({"text": reply})
    with claude.messages.stream(model=MODEL, max_tokens=200, tools=[WEATHER], messages=HI) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["text", "tool_use", "tool_use"]
    assert final.content[0].text.strip() == "Let me check."
    assert [b.input for b in final.content[1:]] == [{"city": "Paris"}, {"city": "Rome"}]
    assert final.stop_reason == "tool_use" and len({b.id for b in final.content[1:]}) == 2


def test_relay_keys_work_in_x_api_key_with_their_model_limits(keyed_relay, keyed_admin, sim):
    keyed_admin.pool(a="pool-key-messages-a")
    _, key = keyed_admin.add_relay_key("claude-user", models=MODEL)
    with anthropic.Anthropic(base_url=keyed_relay.url, api_key=key, max_retries=0) as claude:
        assert claude.messages.create(model=MODEL, max_tokens=100, messages=HI).stop_reason == "end_turn"
        assert sim.requests_to("/api/chat-with-ai")[-1]["headers"]["api-key"] == "pool-key-messages-a"
        with pytest.raises(anthropic.PermissionDeniedError) as caught:
            claude.messages.create(model="gpt-4o", max_tokens=5, messages=HI)
    assert caught.value.body["error"]["type"] == "permission_error"
    assert len(sim.requests_to("/api/chat-with-ai")) == 1
