"""The shared structured-output turn (chat and Responses): one answer, checked, repaired at most once."""
import asyncio
import json
from dataclasses import replace

import httpx
import pytest

from api.upstream import onemin_client
from api import structured_output as so
from api.services import structured_turn
from api.services.unified_chat import Prepared
from core.token_counting import PromptCount, count_messages
from core.upstream_key import UpstreamKey

PERSON = so.TextFormat(so.JSON_SCHEMA, "person", {
    "type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
})
MESSAGES = [{"role": "user", "content": "a person"}]


@pytest.fixture
def upstream():
    """A fake 1min.ai behind the transport seam answering the scripted replies in order."""
    replies: list[tuple[str, dict]] = []
    bodies: list[dict] = []

    def handle(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        text, metadata = replies.pop(0)
        return httpx.Response(200, json={"aiRecord": {"status": "SUCCESS", "metadata": metadata,
                                                      "aiRecordDetail": {"resultObject": [text]}}})

    onemin_client.transport_override = httpx.MockTransport(handle)
    onemin_client._client = None
    yield replies, bodies
    onemin_client.transport_override = None
    onemin_client._client = None


def answer(fmt: so.TextFormat, web_search: bool = False, counted: PromptCount | None = None) -> structured_turn.Outcome:
    messages = so.with_instructions(MESSAGES, fmt)
    prepared = Prepared("gpt-4o-mini", {}, messages, web_search).with_prompt(messages)  # builds the body
    prepared = replace(prepared, counted=counted)

    async def run():
        try:
            return await structured_turn.answer(prepared, fmt, UpstreamKey("key"))
        finally:
            await onemin_client.aclose()
    return asyncio.run(run())


def usage(tokens_in: int, tokens_out: int, credit: int) -> dict:
    return {"inputToken": tokens_in, "outputToken": tokens_out, "totalToken": tokens_in + tokens_out, "credit": credit}


def test_a_valid_reply_is_cleaned_and_needs_one_call(upstream):
    replies, bodies = upstream
    replies.append(('```json\n{"name": "Ann", "age": 3}\n```', usage(10, 4, 7)))
    outcome = answer(PERSON)
    assert (outcome.text, outcome.repaired, outcome.error) == ('{"name": "Ann", "age": 3}', False, None)
    assert (outcome.input_tokens, outcome.output_tokens, outcome.credits) == (10, 4, 7)
    assert bodies[0]["promptObject"]["prompt"].startswith('System: Respond with JSON that is valid against the JSON Schema named "person"')


def test_the_repair_is_counted_and_its_prompt_states_the_errors(upstream):
    replies, bodies = upstream
    replies += [('{"name": "Ann"}', usage(10, 4, 7)), ('{"name": "Ann", "age": 3}', usage(20, 5, 9))]
    outcome = answer(PERSON)
    assert outcome.text == '{"name": "Ann", "age": 3}' and outcome.repaired
    assert (outcome.input_tokens, outcome.output_tokens, outcome.credits) == (30, 9, 16)
    repair = bodies[1]["promptObject"]["prompt"]
    assert "Assistant: {\"name\": \"Ann\"}" in repair and "$: 'age' is a required property" in repair


def test_a_reply_invalid_after_repair_has_no_text_and_says_why(upstream):
    replies, bodies = upstream
    replies += [("no", usage(10, 1, 1)), ('{"name": 5, "age": 1}', usage(20, 2, 2))]
    outcome = answer(PERSON, web_search=True)
    assert outcome.text is None and outcome.repaired
    assert outcome.error == ("The model's reply was not valid JSON for the JSON Schema `person`, even after one "
                             "repair request: $.name: 5 is not of type 'string'")
    assert (outcome.input_tokens, outcome.output_tokens) == (30, 3)
    assert bodies[0]["promptObject"]["settings"]["webSearchSettings"]["webSearch"] is True
    assert "settings" not in bodies[1]["promptObject"]  # the repair only reformats: no second search


def test_plain_text_is_passed_through_without_checking(upstream):
    replies, bodies = upstream
    replies.append(("just words", usage(3, 2, 1)))
    outcome = answer(so.TextFormat())
    assert (outcome.text, outcome.repaired, len(bodies)) == ("just words", False, 1)
    assert bodies[0]["promptObject"]["prompt"] == "a person"


def test_without_counts_from_1min_ai_a_prompt_admission_counted_is_not_counted_again(upstream):
    replies, _ = upstream
    replies += [("just words", {}), ('{"name": "Ann"}', {}), ('{"name": "Ann", "age": 3}', {})]
    admitted = PromptCount(MESSAGES, "gpt-4o-mini", 777)  # what the reservation counted, recognisably
    assert answer(so.TextFormat(), counted=admitted).input_tokens == 777
    # A JSON format adds its instructions: other text, counted; so is the repair request's prompt.
    outcome = answer(PERSON, counted=admitted)
    assert outcome.repaired and 0 < outcome.input_tokens != 777
    assert outcome.input_tokens > count_messages(so.with_instructions(MESSAGES, PERSON), "gpt-4o-mini")
