"""Structured outputs on /v1/responses: JSON asked for, cleaned, checked, repaired once, or failed honestly."""
import json

import httpx
import pydantic

from tests.e2e.responses_support import auth, post, prompts, stream_events, types
from tests.openai_schema import validate

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
PERSON_FORMAT = {"format": {"type": "json_schema", "name": "person", "schema": PERSON, "strict": True}}


class Person(pydantic.BaseModel):
    name: str
    age: int


def test_json_object_replies_are_cleaned_of_code_fences(client, sim):
    sim.script({"text": "```json\n{\"ok\": true, \"n\": 3}\n```"})
    response = client.responses.create(model="gpt-4o-mini", input="status?", text={"format": {"type": "json_object"}})
    assert response.output_text == '{"ok": true, "n": 3}'
    assert response.status == "completed" and response.text.format.type == "json_object"
    (prompt,) = prompts(sim)
    assert "Respond with one valid JSON object." in prompt and "no Markdown code fences" in prompt


def test_leading_and_trailing_prose_around_the_json_is_dropped(client, sim):
    sim.script({"text": "Sure! Here is the person you asked for:\n{\"name\": \"Ann\", \"age\": 31}\nAnything else?"})
    response = client.responses.create(model="gpt-4o-mini", input="a person", text=PERSON_FORMAT)
    assert json.loads(response.output_text) == {"name": "Ann", "age": 31}
    assert len(prompts(sim)) == 1


def test_the_json_schema_reaches_the_prompt_and_the_format_is_echoed(relay, sim):
    sim.script({"text": '{"name": "Ann", "age": 31}'})
    body = post(relay, {"model": "gpt-4o-mini", "input": "a person", "text": PERSON_FORMAT}).json()
    validate(body, "Response")
    assert body["text"]["format"] == {"type": "json_schema", "name": "person", "schema": PERSON, "strict": True}
    (prompt,) = prompts(sim)
    assert 'JSON Schema named "person"' in prompt
    assert json.dumps(PERSON, separators=(",", ":")) in prompt


def test_the_sdks_parse_helper_gets_a_parsed_object(client, sim):
    sim.script({"text": '{"name": "Bo", "age": 7}'})
    parsed = client.responses.parse(model="gpt-4o-mini", input="a person", text_format=Person)
    assert parsed.output_parsed == Person(name="Bo", age=7)


def test_the_earlier_relays_response_format_field_is_honoured(relay, sim):
    sim.script({"text": '{"name": "Cy", "age": 40}'})
    body = post(relay, {"model": "gpt-4o-mini", "input": "a person", "response_format": {
        "type": "json_schema", "json_schema": {"name": "person", "schema": PERSON}}}).json()
    assert json.loads(body["output"][0]["content"][0]["text"]) == {"name": "Cy", "age": 40}
    assert body["text"]["format"]["name"] == "person" and body["text"]["format"]["strict"] is False
    sim.script({"text": "not json at all"}, times=1)
    sim.script({"text": '{"fine": 1}'}, times=1)
    body = post(relay, {"model": "gpt-4o-mini", "input": "x", "response_format": {"type": "json_object"}}).json()
    assert body["output"][0]["content"][0]["text"] == '{"fine": 1}'


def test_an_invalid_reply_gets_one_repair_request_carrying_the_validation_errors(client, relay, sim):
    sim.script({"text": '{"name": "Ann"}', "metadata": {"inputToken": 50, "outputToken": 5, "totalToken": 55}}, times=1)
    sim.script({"text": '{"name": "Ann", "age": 31}', "metadata": {"inputToken": 80, "outputToken": 9, "totalToken": 89}}, times=1)
    response = client.responses.create(model="gpt-4o-mini", input="a person", text=PERSON_FORMAT)
    assert response.status == "completed"
    assert json.loads(response.output_text) == {"name": "Ann", "age": 31}
    first, repair = prompts(sim)
    assert repair.startswith(first.removesuffix("Assistant:"))
    assert 'Assistant: {"name": "Ann"}' in repair
    assert "$: 'age' is a required property" in repair
    assert "Reply again with only the corrected JSON" in repair
    assert (response.usage.input_tokens, response.usage.output_tokens) == (130, 14)


def test_when_the_repair_fails_too_the_response_says_so_and_returns_no_json(client, relay, sim):
    sim.script({"text": '{"name": "Ann", "age": "old"}'}, times=1)
    sim.script({"text": "I cannot do that."}, times=1)
    response = client.responses.create(model="gpt-4o-mini", input="a person", text=PERSON_FORMAT)
    assert response.status == "failed"
    assert response.error.code == "server_error"
    assert "not valid JSON for the JSON Schema `person`" in response.error.message
    assert "no valid JSON value" in response.error.message
    assert response.output == [] and response.output_text == ""
    assert len(prompts(sim)) == 2
    stored = httpx.get(f"{relay.url}/v1/responses/{response.id}", headers=auth()).json()
    validate(stored, "Response")
    assert stored["status"] == "failed"


def test_a_streamed_structured_answer_is_checked_before_any_of_it_is_sent(relay, sim):
    sim.script({"text": "```\n{\"name\": \"Ann\"}\n```"}, times=1)
    sim.script({"text": "Here: {\"name\": \"Ann\", \"age\": 31}"}, times=1)
    events = stream_events(relay, {"model": "gpt-4o-mini", "input": "a person", "text": PERSON_FORMAT})
    assert types(events) == [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.done", "response.content_part.done",
        "response.output_item.done", "response.completed",
    ]
    assert events[4]["delta"] == '{"name": "Ann", "age": 31}'
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == '{"name": "Ann", "age": 31}'


def test_a_streamed_structured_failure_ends_in_response_failed(relay, sim):
    sim.script({"text": "nope"}, times=2)
    events = stream_events(relay, {"model": "gpt-4o-mini", "input": "x", "text": {"format": {"type": "json_object"}}})
    assert types(events) == ["response.created", "response.in_progress", "response.failed"]
    assert events[-1]["response"]["error"]["code"] == "server_error"
    assert events[-1]["response"]["output"] == []


def test_the_repair_request_does_not_search_the_web_again(client, sim):
    sim.script({"text": "no json"}, times=1)
    sim.script({"text": '{"a": 1}'}, times=1)
    response = client.responses.create(model="gpt-4o-mini:online", input="x", text={"format": {"type": "json_object"}})
    assert response.output_text == '{"a": 1}'
    first, repair = (r["json"]["promptObject"] for r in sim.requests_to("/api/chat-with-ai"))
    assert first["settings"]["webSearchSettings"]["webSearch"] is True
    assert "settings" not in repair
