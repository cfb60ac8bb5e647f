"""Token reservations read from request bodies."""
import pytest

from api import token_counting
from quotas.token_estimate import Estimate, from_body

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"}]


def test_chat_messages_are_counted_as_the_chat_service_counts_them():
    estimate = from_body({"model": "gpt-4o-mini", "messages": MESSAGES, "max_tokens": 50}, True)
    assert estimate == Estimate("gpt-4o-mini", token_counting.count_messages(MESSAGES, "gpt-4o-mini"), 50, True)


@pytest.mark.parametrize("body, cap", [({"max_completion_tokens": 7, "max_tokens": 9}, 7), ({"max_output_tokens": 11}, 11),
                                       ({"max_tokens": 0}, None), ({"max_tokens": True}, None), ({}, None)])
def test_the_output_cap_is_the_clients_own(body, cap):
    assert from_body({"model": "m", **body}).max_output_tokens == cap


@pytest.mark.parametrize("model, expected", [("gpt-4o-mini:online", "gpt-4o-mini"), (" o3 ", "o3"), ("", None), (5, None)])
def test_the_model_is_the_upstream_one(model, expected):
    assert from_body({"model": model}).model == expected


def test_inputs_instructions_and_prompts_are_counted():
    body = {"model": "gpt-4o", "input": [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
            "instructions": "answer in French", "prompt": "a red fox"}
    expected = (token_counting.count_messages(body["input"], "gpt-4o") + token_counting.count_text("answer in French", "gpt-4o")
                + token_counting.count_text("a red fox", "gpt-4o"))
    assert from_body(body).prompt_tokens == expected
    assert from_body({"input": ["one", "two"]}).prompt_tokens == 2


def test_bodies_that_are_not_objects_cost_nothing():
    assert from_body(["x"], True) == Estimate(generates_text=True)


SCHEMA = {"type": "object", "properties": {"name": {"type": "string", "description": "the full name " * 20}}}


@pytest.mark.parametrize("body", [
    {"response_format": {"type": "json_schema", "json_schema": {"name": "p", "schema": SCHEMA}}},
    {"text": {"format": {"type": "json_schema", "name": "p", "schema": SCHEMA}}},
])
def test_the_schema_the_relay_adds_to_the_prompt_is_reserved_too(body):
    plain = from_body({"model": "gpt-4o", "messages": MESSAGES}, True).prompt_tokens
    with_schema = from_body({"model": "gpt-4o", "messages": MESSAGES, **body}, True).prompt_tokens
    assert with_schema - plain > token_counting.count_text(str(SCHEMA), "gpt-4o") // 2
    json_object = from_body({"model": "gpt-4o", "messages": MESSAGES, "response_format": {"type": "json_object"}}, True)
    assert 0 < json_object.prompt_tokens - plain < with_schema - plain
    assert from_body({"messages": MESSAGES, "response_format": "json"}, True).prompt_tokens == from_body({"messages": MESSAGES}, True).prompt_tokens


WEATHER_PARAMETERS = {"type": "object", "properties": {"city": {"type": "string", "description": "a city name " * 10}}}


@pytest.mark.parametrize("tools", [
    {"tools": [{"type": "function", "name": "get_weather", "parameters": WEATHER_PARAMETERS}, {"type": "web_search"}]},
    {"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER_PARAMETERS}}]},
    {"functions": [{"name": "get_weather", "parameters": WEATHER_PARAMETERS}]},
])
def test_the_tool_definitions_the_relay_writes_into_the_prompt_are_reserved(tools):
    from api.tool_emulation import prompt
    from api.tool_emulation.spec import Tool, ToolSpec

    plain = from_body({"model": "gpt-4o", "messages": MESSAGES}, True).prompt_tokens
    written = prompt.instructions(ToolSpec((Tool("get_weather", "", WEATHER_PARAMETERS),)))
    estimate = from_body({"model": "gpt-4o", "messages": MESSAGES, **tools}, True)
    assert estimate.prompt_tokens - plain == token_counting.count_text(written, "gpt-4o")
    declined = from_body({"model": "gpt-4o", "messages": MESSAGES, "tool_choice": "none", **tools}, True)
    assert declined.prompt_tokens == plain
