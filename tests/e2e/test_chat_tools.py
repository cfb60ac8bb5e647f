"""Tool calling on /v1/chat/completions, emulated through the prompt: the official SDK against the simulator."""
import json

import httpx
import openai
import pytest

from tests.conftest import TEST_KEY
from tests.openai_schema import validate

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                   "additionalProperties": False},
}}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {
    "type": "object", "properties": {"tz": {"type": "string"}}}}}
TOOLS = [WEATHER, TIME]
ASK = [{"role": "user", "content": "Weather in Paris, and the time in UTC?"}]
PARIS = ("get_weather", {"city": "Paris"})
UTC = ("get_time", {"tz": "UTC"})
BAD = '<tool_call>{"name": "get_weather", "arguments": {"town": "Paris"}}</tool_call>'
GOOD = '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>'


def usage_of(inp, out):
    return {"metadata": {"inputToken": inp, "outputToken": out, "totalToken": inp + out}}


def prompts(sim):
    return [r["json"]["promptObject"]["prompt"] for r in sim.requests_to("/api/chat-with-ai")]


def create(client, **kwargs):
    """A non-streamed completion, validated against OpenAI's schema, as a dict."""
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", **kwargs)
    body = json.loads(raw.text)
    validate(body, "CreateChatCompletionResponse")
    return body


def stream(relay, **kwargs):
    """A streamed completion's chunks, each validated against OpenAI's schema; ends with [DONE]."""
    body = {"model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True}, **kwargs}
    with httpx.stream("POST", f"{relay.url}/v1/chat/completions", json=body,
                      headers={"Authorization": f"Bearer {TEST_KEY}"}, timeout=30) as response:
        assert response.status_code == 200, response.read()
        payloads = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    for chunk in chunks:
        validate(chunk, "CreateChatCompletionStreamResponse")
    return chunks


def calls_of(message):
    return [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in message.get("tool_calls") or []]


def streamed(chunks):
    """(content, calls, finish_reason, usage) rebuilt from chunks, checking OpenAI's call sequence."""
    content, calls, reason = "", {}, None
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    for chunk in chunks[:-1]:
        (choice,) = chunk["choices"]
        delta = choice["delta"]
        content += delta.get("content") or ""
        for item in delta.get("tool_calls") or []:
            if item["index"] not in calls:
                # A call opens with its id, type and name, and empty arguments.
                assert item["id"].startswith("call_") and item["type"] == "function"
                assert item["function"]["arguments"] == ""
                calls[item["index"]] = [item["function"]["name"], ""]
            else:
                assert set(item) == {"index", "function"} and set(item["function"]) == {"arguments"}
                calls[item["index"]][1] += item["function"]["arguments"]
        reason = choice["finish_reason"] or reason
    assert chunks[-1]["choices"] == []
    return content, [(n, json.loads(a)) for _, (n, a) in sorted(calls.items())], reason, chunks[-1]["usage"]


@pytest.mark.parametrize(
    "reply, calls, content",
    [
        (GOOD + "\n" + '<tool_call>{"name": "get_time", "arguments": {"tz": "UTC"}}</tool_call>', [PARIS, UTC], None),
        ('{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}, '
         '{"name": "get_time", "arguments": "{\\"tz\\": \\"UTC\\"}"}]}', [PARIS, UTC], None),
        ('{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}', [PARIS], None),
        ('[{"type": "function", "function": {"name": "get_time", "arguments": {"tz": "UTC"}}}]', [UTC], None),
        ('```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```', [PARIS], None),
        ('Let me look that up.\n{"name": "get_weather", "arguments": {"city": "Paris"}}', [PARIS],
         "Let me look that up."),
    ],
)
def test_each_reply_shape_becomes_tool_calls_streamed_or_not(client, relay, sim, reply, calls, content):
    sim.script({"text": reply, "chunk_size": 5, **usage_of(40, 12)}, times=2)
    body = create(client, messages=ASK, tools=TOOLS)
    (choice,) = body["choices"]
    assert choice["finish_reason"] == "tool_calls"
    assert calls_of(choice["message"]) == calls and choice["message"]["content"] == content
    assert all(c["id"].startswith("call_") and len(c["id"]) == 29 for c in choice["message"]["tool_calls"])
    assert body["usage"]["prompt_tokens"] == 40 and body["usage"]["completion_tokens"] == 12

    text, got, reason, usage = streamed(stream(relay, messages=ASK, tools=TOOLS))
    assert (text or None, got, reason) == (content, calls, "tool_calls")
    assert usage["prompt_tokens"] == 40 and usage["completion_tokens"] == 12
    prompt = prompts(sim)[0]
    assert "`get_weather`: Current weather in a city" in prompt and '"required":["city"]' in prompt
    assert "<tool_call>" in prompt and "several tools" in prompt


def test_text_replies_stay_text_and_stream_at_once(client, relay, sim):
    text = 'Paris is sunny. As JSON: {"name": "x"}\n{"name": "not_a_tool", "arguments": {}}\n```python\nprint(1)\n```'
    sim.script({"text": text, "chunk_size": 3, "chunk_delay_ms": 1}, times=2)
    body = create(client, messages=ASK, tools=TOOLS)
    assert body["choices"][0]["message"]["content"] == text and body["choices"][0]["finish_reason"] == "stop"
    assert "tool_calls" not in body["choices"][0]["message"]
    chunks = stream(relay, messages=ASK, tools=TOOLS)
    content, calls, reason, _ = streamed(chunks)
    assert (content, calls, reason) == (text, [], "stop")
    # Released as it came: many content chunks, not one held-back block.
    assert sum(1 for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")) > 5


def test_an_invalid_call_is_repaired_once_stating_the_problems(client, relay, sim):
    for _ in range(2):
        sim.script({"text": BAD, **usage_of(30, 10)})
        sim.script({"text": GOOD, **usage_of(50, 8)})
    body = create(client, messages=ASK, tools=TOOLS)
    assert calls_of(body["choices"][0]["message"]) == [PARIS]
    assert body["usage"]["prompt_tokens"] == 80 and body["usage"]["completion_tokens"] == 18
    _, calls, reason, usage = streamed(stream(relay, messages=ASK, tools=TOOLS))
    assert (calls, reason) == ([PARIS], "tool_calls")
    assert usage["prompt_tokens"] == 80 and usage["completion_tokens"] == 18
    first, repair = prompts(sim)[:2]
    assert repair.startswith(first.removesuffix("\n\nAssistant:"))
    assert BAD in repair and "'city' is a required property" in repair and "Additional properties" in repair


def test_when_the_repair_fails_auto_answers_text_and_required_or_named_fail_clearly(client, relay, sim):
    sim.script({"text": BAD})
    sim.script({"text": "Sorry, I cannot use the tool."})
    body = create(client, messages=ASK, tools=TOOLS)
    assert body["choices"][0]["message"]["content"] == "Sorry, I cannot use the tool."
    assert body["choices"][0]["finish_reason"] == "stop"

    sim.script({"text": "It is sunny."}, times=2)  # required: a text reply is repaired, and stays text
    with pytest.raises(openai.APIStatusError) as failed:
        client.chat.completions.create(model="gpt-4o-mini", messages=ASK, tools=TOOLS, tool_choice="required")
    assert failed.value.status_code == 502 and failed.value.body["code"] == "tool_call_failed"
    assert "must call at least one tool" in prompts(sim)[-1]

    named = {"type": "function", "function": {"name": "get_time"}}
    sim.script({"text": GOOD}, times=2)  # calls the wrong tool twice
    with httpx.Client(timeout=30) as http:
        response = http.post(f"{relay.url}/v1/chat/completions", headers={"Authorization": f"Bearer {TEST_KEY}"},
                             json={"model": "gpt-4o-mini", "messages": ASK, "tools": TOOLS, "tool_choice": named,
                                   "stream": True})
    assert response.status_code == 502 and response.json()["error"]["code"] == "tool_call_failed"
    assert "You must call `get_time`, not `get_weather`" in prompts(sim)[-1]

    sim.script({"text": "It is sunny."})
    sim.script({"text": '<tool_call>{"name": "get_time", "arguments": {"tz": "UTC"}}</tool_call>'})
    _, calls, reason, _ = streamed(stream(relay, messages=ASK, tools=TOOLS, tool_choice=named))
    assert (calls, reason) == ([UTC], "tool_calls")


def test_parallel_tool_calls_false_gives_one_call_and_says_so(client, relay, sim):
    two = GOOD + '\n<tool_call>{"name": "get_time", "arguments": {"tz": "UTC"}}</tool_call>'
    sim.script({"text": two}, times=2)
    body = create(client, messages=ASK, tools=TOOLS, parallel_tool_calls=False)
    assert calls_of(body["choices"][0]["message"]) == [PARIS]
    # The SDK's own stream helper accumulates the fragments into the final message.
    with client.chat.completions.stream(model="gpt-4o-mini", messages=ASK, tools=TOOLS,
                                        parallel_tool_calls=False) as events:
        final = events.get_final_completion()
    (call,) = final.choices[0].message.tool_calls
    assert (call.function.name, json.loads(call.function.arguments)) == PARIS
    assert final.choices[0].finish_reason == "tool_calls"
    assert "at most one tool" in prompts(sim)[0]


def test_history_calls_and_results_are_written_in_the_convention(client, sim):
    sim.script({"text": "Paris is at 18°C."})
    messages = [
        {"role": "system", "content": "Be brief."}, *ASK,
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_a1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_a1", "content": "18°C, clear"},
    ]
    body = create(client, messages=messages, tools=TOOLS, tool_choice="auto")
    assert body["choices"][0]["message"]["content"] == "Paris is at 18°C."
    (prompt,) = prompts(sim)
    assert prompt.startswith("System: Be brief.\n\nSystem: You can call the following tools")
    assert ("Assistant: " + GOOD + "\n\nTool: "
            '<tool_result call_id="call_a1" name="get_weather">18°C, clear</tool_result>\n\nAssistant:') in prompt


def test_legacy_functions_answer_with_function_call(client, relay, sim):
    functions = [WEATHER["function"]]
    sim.script({"text": GOOD}, times=2)
    body = create(client, messages=ASK, functions=functions, function_call={"name": "get_weather"})
    message = body["choices"][0]["message"]
    assert body["choices"][0]["finish_reason"] == "function_call" and "tool_calls" not in message
    assert message["function_call"]["name"] == "get_weather"
    assert json.loads(message["function_call"]["arguments"]) == {"city": "Paris"}
    chunks = stream(relay, messages=ASK, functions=functions)
    deltas = [c["choices"][0]["delta"] for c in chunks[:-1]]
    assert deltas[1]["function_call"] == {"name": "get_weather", "arguments": ""}
    assert json.loads("".join(d.get("function_call", {}).get("arguments", "") for d in deltas)) == {"city": "Paris"}
    assert chunks[-2]["choices"][0]["finish_reason"] == "function_call"


def test_with_tool_choice_none_the_model_is_not_offered_tools(client, sim):
    sim.script({"text": GOOD})
    body = create(client, messages=ASK, tools=TOOLS, tool_choice="none")
    assert body["choices"][0]["message"]["content"] == GOOD
    assert "You can call" not in prompts(sim)[0]


@pytest.mark.parametrize(
    "extra, param",
    [
        ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
        ({"tools": [{"type": "function", "function": {"name": "bad name"}}]}, "tools[0].function.name"),
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "nope"}}}]},
         "tools[0].function.parameters"),
        ({"tools": [WEATHER, WEATHER]}, "tools[1]"),
        ({"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "other"}}}, "tool_choice"),
        ({"tools": TOOLS, "tool_choice": "sometimes"}, "tool_choice"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"tools": TOOLS, "parallel_tool_calls": "yes"}, "parallel_tool_calls"),
        ({"tools": TOOLS, "functions": [WEATHER["function"]]}, "functions"),
        ({"functions": [WEATHER["function"]], "function_call": {"name": "nope"}}, "function_call"),
    ],
)
def test_bad_tool_declarations_are_400_in_openais_envelope(relay, sim, extra, param):
    with httpx.Client(timeout=30) as http:
        response = http.post(f"{relay.url}/v1/chat/completions", headers={"Authorization": f"Bearer {TEST_KEY}"},
                             json={"model": "gpt-4o-mini", "messages": ASK, **extra})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param and error["message"]
    assert sim.requests_to("/api/chat-with-ai") == []


def test_an_upstream_failure_mid_call_is_an_error_event_not_a_call(relay, sim):
    sim.script({"text": GOOD, "stream_error_after": 4, "message": "provider crashed"})
    body = {"model": "gpt-4o-mini", "stream": True, "messages": ASK, "tools": TOOLS}
    with httpx.stream("POST", f"{relay.url}/v1/chat/completions", json=body,
                      headers={"Authorization": f"Bearer {TEST_KEY}"}, timeout=30) as response:
        payloads = [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: {")]
    assert payloads[-1]["error"]["code"] == "upstream_error" and "provider crashed" in payloads[-1]["error"]["message"]
    assert not any(p.get("choices") and p["choices"][0]["delta"].get("tool_calls") for p in payloads)
