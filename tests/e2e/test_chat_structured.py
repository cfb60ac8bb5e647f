"""Structured outputs on /v1/chat/completions: the same prompt / clean / check / one-repair path as /v1/responses."""
import json
import threading
import time

import httpx
import openai
import pydantic
import pytest

from tests.conftest import TEST_KEY
from tests.e2e.responses_support import auth, prompts
from tests.openai_schema import validate


class Person(pydantic.BaseModel):
    name: str
    age: int


def _chat(relay, body: dict) -> httpx.Response:
    return httpx.post(f"{relay.url}/v1/chat/completions", json={"model": "gpt-4o-mini", **body}, headers=auth(), timeout=30)


def _chunks(relay, body: dict) -> list[dict]:
    chunks = []
    with httpx.stream("POST", f"{relay.url}/v1/chat/completions", headers=auth(), timeout=30,
                      json={"model": "gpt-4o-mini", "stream": True, **body}) as response:
        assert response.status_code == 200, response.read()
        lines = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    for line in lines[:-1]:
        chunks.append(json.loads(line))
        validate(chunks[-1], "CreateChatCompletionStreamResponse")
    return chunks


def test_parse_gets_a_parsed_model_from_a_fenced_reply_and_the_schema_reaches_the_prompt(client, sim):
    sim.script({"text": "Sure:\n```json\n{\"name\": \"Bo\", \"age\": 7}\n```"})
    completion = client.chat.completions.parse(
        model="gpt-4o-mini", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "a person"}],
        response_format=Person,
    )
    message = completion.choices[0].message
    assert message.parsed == Person(name="Bo", age=7)
    assert message.content == '{"name": "Bo", "age": 7}' and completion.choices[0].finish_reason == "stop"
    (prompt,) = prompts(sim)
    assert prompt.startswith('System: Respond with JSON that is valid against the JSON Schema named "Person"')
    assert json.dumps(Person.model_json_schema()["properties"], separators=(",", ":")) in prompt
    assert "System: Be brief." in prompt and "Human: a person" in prompt


def test_an_invalid_reply_is_repaired_once_and_usage_counts_both_calls(relay, sim):
    sim.script({"text": '{"name": "Ann"}', "metadata": {"inputToken": 50, "outputToken": 5, "totalToken": 55}}, times=1)
    sim.script({"text": '{"name": "Ann", "age": 31}', "metadata": {"inputToken": 80, "outputToken": 9, "totalToken": 89}}, times=1)
    schema = Person.model_json_schema()
    response = _chat(relay, {"messages": [{"role": "user", "content": "a person"}], "response_format": {
        "type": "json_schema", "json_schema": {"name": "person", "schema": schema}}})
    body = response.json()
    validate(body, "CreateChatCompletionResponse")
    assert json.loads(body["choices"][0]["message"]["content"]) == {"name": "Ann", "age": 31}
    assert (body["usage"]["prompt_tokens"], body["usage"]["completion_tokens"]) == (130, 14)
    first, repair = prompts(sim)
    assert repair.startswith(first.removesuffix("Assistant:")) and "$: 'age' is a required property" in repair


def test_json_object_mode_and_a_reply_that_stays_invalid_is_a_502_the_sdk_does_not_retry(relay, sim):
    sim.script({"text": "The answer is {\"ok\": true}."})
    body = _chat(relay, {"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}}).json()
    assert body["choices"][0]["message"]["content"] == '{"ok": true}'
    assert "Respond with one valid JSON object." in prompts(sim)[0]

    sim.reset()
    sim.script({"text": "I would rather not."}, times=None)
    with openai.OpenAI(base_url=f"{relay.url}/v1", api_key=TEST_KEY, max_retries=2, timeout=30) as retrying:
        with pytest.raises(openai.APIStatusError) as raised:
            retrying.chat.completions.parse(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}],
                                            response_format=Person)
    error = raised.value
    assert error.status_code == 502 and error.code == "structured_output_failed"
    assert error.body["type"] == "api_error" and error.body["param"] == "response_format"
    assert "not valid JSON for the JSON Schema `Person`, even after one repair request" in error.body["message"]
    assert len(prompts(sim)) == 2  # the first answer and its repair; no SDK retry


def test_stream_helper_and_raw_chunks_carry_the_checked_json(client, relay, sim):
    sim.script({"text": "```\n{\"name\": \"Ann\"}\n```"}, times=1)
    sim.script({"text": "Here: {\"name\": \"Ann\", \"age\": 31}"}, times=1)
    with client.chat.completions.stream(model="gpt-4o-mini", messages=[{"role": "user", "content": "a person"}],
                                        response_format=Person) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.parsed == Person(name="Ann", age=31)
    assert len(prompts(sim)) == 2

    sim.reset()
    sim.script({"text": '{"a": [1, 2]}', "metadata": {"inputToken": 11, "outputToken": 4, "totalToken": 15}})
    chunks = _chunks(relay, {"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"},
                             "stream_options": {"include_usage": True}})
    assert [c["choices"][0]["delta"] if c["choices"] else None for c in chunks] == [
        {"role": "assistant", "content": ""}, {"content": '{"a": [1, 2]}'}, {}, None]
    assert chunks[2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["prompt_tokens"] == 11 and chunks[-1]["usage"]["completion_tokens"] == 4


def test_a_streamed_reply_that_stays_invalid_is_an_http_error_before_any_chunk(relay, sim):
    sim.script({"text": "nope"}, times=2)
    response = httpx.post(f"{relay.url}/v1/chat/completions", headers=auth(), timeout=30, json={
        "model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "x"}],
        "response_format": {"type": "json_object"}})
    assert response.status_code == 502 and response.headers["x-should-retry"] == "false"
    assert response.json()["error"]["code"] == "structured_output_failed"


@pytest.mark.parametrize(
    "response_format, param",
    [
        ({"type": "xml"}, "response_format.type"),
        ({"type": "json_schema", "json_schema": {"name": "bad name!", "schema": {}}}, "response_format.json_schema.name"),
        ({"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "string", "pattern": "(?=x)"}}},
         "response_format.json_schema.schema"),
    ],
)
def test_a_bad_response_format_is_a_400_naming_it(relay, sim, response_format, param):
    response = _chat(relay, {"messages": [{"role": "user", "content": "x"}], "response_format": response_format})
    assert response.status_code == 400 and response.json()["error"]["param"] == param
    assert sim.requests_to("/api/chat-with-ai") == []


def test_a_catastrophic_schema_pattern_is_checked_in_bounded_time_while_healthz_answers(relay, sim):
    sim.script({"text": json.dumps({"s": "a" * 40 + "!"})}, times=2)
    schema = {"type": "object", "properties": {"s": {"type": "string", "pattern": "^(a+)+$"}}, "required": ["s"]}
    health: list[tuple[int, float]] = []
    done = threading.Event()

    def poll_health():
        while not done.is_set():
            started = time.monotonic()
            try:
                status = httpx.get(f"{relay.url}/healthz", timeout=2).status_code
            except httpx.TimeoutException:
                status = 0
            health.append((status, time.monotonic() - started))

    poller = threading.Thread(target=poll_health, daemon=True)
    poller.start()
    started = time.monotonic()
    try:
        response = httpx.post(f"{relay.url}/v1/chat/completions", headers=auth(), timeout=5, json={
            "model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}})
        elapsed = time.monotonic() - started
    finally:
        done.set()
        poller.join(5)
    assert elapsed < 1.0
    assert response.status_code == 502
    assert "does not match '^(a+)+$'" in response.json()["error"]["message"]
    assert health and all(status == 200 and took < 1.0 for status, took in health)


def test_beside_tools_a_call_stays_a_call_and_a_text_answer_is_held_to_the_format(client, sim):
    weather = {"type": "function", "function": {"name": "get_weather", "strict": True, "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}}}
    sim.script({"text": '<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>'}, times=1)
    called = client.chat.completions.parse(model="gpt-4o-mini", messages=[{"role": "user", "content": "a person"}],
                                           tools=[weather], response_format=Person)
    assert called.choices[0].finish_reason == "tool_calls"
    assert called.choices[0].message.tool_calls[0].function.parsed_arguments == {"city": "Oslo"}

    sim.script({"text": "Ann, 31 years old.", "metadata": {"inputToken": 20, "outputToken": 5, "totalToken": 25}}, times=1)
    sim.script({"text": '{"name": "Ann", "age": 31}', "metadata": {"inputToken": 30, "outputToken": 7, "totalToken": 37}}, times=1)
    with client.chat.completions.stream(model="gpt-4o-mini", messages=[{"role": "user", "content": "a person"}],
                                        tools=[weather], response_format=Person,
                                        stream_options={"include_usage": True}) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.parsed == Person(name="Ann", age=31)
    assert (final.usage.prompt_tokens, final.usage.completion_tokens) == (50, 12)
    repair = prompts(sim)[-1]
    assert "Assistant: Ann, 31 years old." in repair and "Reply again with only the corrected JSON" in repair
