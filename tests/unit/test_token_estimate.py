"""Token reservations read from request bodies."""
import pytest

from core import token_counting
from quotas.token_estimate import Estimate, from_body

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"}]


def test_chat_messages_are_counted_as_the_chat_service_counts_them():
    estimate = from_body({"model": "gpt-4o-mini", "messages": MESSAGES, "max_tokens": 50}, True)
    assert estimate == Estimate("gpt-4o-mini", token_counting.count_messages(MESSAGES, "gpt-4o-mini"), 50, True)


def test_the_messages_count_is_kept_for_a_call_that_sends_that_very_list():
    body = {"model": "gpt-4o-mini", "messages": MESSAGES, "tools": [{"type": "function", "function": {"name": "f"}}]}
    estimate = from_body(body, True)
    counted = estimate.counted_messages
    alone = token_counting.count_messages(MESSAGES, "gpt-4o-mini")
    assert estimate.prompt_tokens > alone  # the reservation holds the tools too; the kept count does not
    assert counted.tokens_for(MESSAGES, "gpt-4o") == alone  # same list, same encoding (o200k_base)
    assert counted.tokens_for(list(MESSAGES), "gpt-4o-mini") is None  # another list: maybe other text
    assert counted.tokens_for(MESSAGES, "gpt-4") is None  # another encoding (cl100k_base)
    assert from_body({"messages": [*MESSAGES, "junk"]}).counted_messages is None  # not the count of that list
    assert from_body({"input": "hi"}).counted_messages is None


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


HUGE = "lorem ipsum dolor " * 2000  # about 6,000 tokens


def _big(body: dict) -> int:
    return from_body({"model": "gpt-4o-mini", **body}).prompt_tokens


@pytest.mark.parametrize("body", [
    {"messages": [{"role": "user", "content": "hi"}],
     "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"description": HUGE}}}},
    {"input": "hi", "text": {"format": {"type": "json_schema", "name": "x", "schema": {"description": HUGE}}}},
    {"messages": [{"role": "user", "content": "hi"}],
     "tools": [{"type": "function", "function": {"name": "f", "description": HUGE}}]},
    {"input": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": HUGE},
               {"type": "function_call_output", "call_id": "c", "output": HUGE}]},
    # Anthropic's /v1/messages body: block-list system, tools with input_schema, tool blocks
    {"system": [{"type": "text", "text": HUGE}], "messages": [{"role": "user", "content": "hi"}]},
    {"messages": [{"role": "user", "content": "hi"}], "tools": [{"name": "f", "input_schema": {"description": HUGE}}]},
    {"messages": [{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {"q": HUGE}}]},
                  {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t",
                                                "content": [{"type": "text", "text": HUGE}]}]}]},
], ids=["chat-schema", "responses-schema", "tools", "function-items", "anthropic-system", "anthropic-tools",
        "anthropic-tool-blocks"])
def test_everything_sent_upstream_is_counted_not_only_the_message_text(body):
    assert _big(body) >= token_counting.count_text(HUGE, "gpt-4o-mini")
