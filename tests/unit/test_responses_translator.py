"""Table-driven tests of the pure Responses translation: input items, prompts, objects and pages."""
import pytest

from core.errors import InvalidRequest
from api.request_schemas.text import parse_responses
from api.translators import chat
from api.translators import response_objects as ro
from api.translators import responses as tr
from tests.openai_schema import validate


def prompt_of(body: dict) -> str:
    request = parse_responses({"model": "gpt-4o-mini", **body})
    guidance = tr.guidance(request.reasoning["effort"], request.verbosity, None)
    return chat.build_prompt(tr.conversation(request.instructions, guidance, [], request.messages))


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"input": "hi"}, "hi"),
        ({"input": [{"role": "user", "content": "hi"}]}, "hi"),
        ({"input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}]}, "hi"),
        ({"input": "hi", "instructions": "be kind"}, "System: be kind\n\nHuman: hi\n\nAssistant:"),
        ({"input": [{"role": "assistant", "content": [{"type": "output_text", "text": "a"}, {"type": "refusal", "refusal": "no"}]},
                    {"role": "user", "content": "b"}]},
         "Assistant: a\nno\n\nHuman: b\n\nAssistant:"),
        ({"input": [{"role": "user", "content": [{"type": "text", "text": "n8n style"}]}]}, "n8n style"),
        ({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": {"url": "https://x/a.png"}},
                                                  {"type": "input_text", "text": "what?"}]}]},
         "[image 1]\nwhat?"),
        ({"input": [{"type": "function_call_output", "call_id": "c", "output": [{"type": "input_text", "text": "42"}]}]},
         "Tool (result of call c): 42\n\nAssistant:"),
        ({"input": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": {"x": 1}}]},
         'Assistant: [called tool `f` with arguments {"x": 1} (call id c)]\n\nAssistant:'),
        ({"input": "hi", "reasoning": {"effort": "none"}}, "hi"),
        ({"input": "hi", "reasoning": {"effort": "medium"}},
         "System: Think through the problem step by step and provide a well-reasoned response.\n\nHuman: hi\n\nAssistant:"),
        ({"input": "hi", "text": {"verbosity": "high"}}, "System: Give a detailed, thorough answer.\n\nHuman: hi\n\nAssistant:"),
        ({"messages": [{"role": "user", "name": "ann", "content": "hi"}]}, "Human (ann): hi\n\nAssistant:"),
    ],
)
def test_every_input_form_reaches_the_prompt(body, expected):
    assert prompt_of(body) == expected


def test_stored_items_validate_as_openai_item_resources():
    items = tr.normalize_input([
        {"role": "system", "content": "s"},
        {"role": "user", "content": [{"type": "input_image", "image_url": "https://x/a.png"}]},
        {"role": "assistant", "content": "a"},
        {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}", "id": "fc_given"},
        {"type": "function_call_output", "call_id": "c", "output": "o"},
    ])
    page = ro.item_list(items, 20, "asc", None)
    validate(page, "ResponseItemList")
    assert items[3]["id"] == "fc_given" and items[0]["id"].startswith("msg_")


def test_chat_messages_become_the_items_the_responses_api_would_have_stored():
    items = tr.items_from_chat([
        {"role": "user", "content": [{"type": "text", "text": "t"}, {"type": "image_url", "image_url": {"url": "u", "detail": "low"}}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c", "content": "42"},
    ])
    assert [i["type"] for i in items] == ["message", "function_call", "function_call_output"]
    assert items[0]["content"] == [{"type": "input_text", "text": "t"}, {"type": "input_image", "image_url": "u", "detail": "low"}]
    assert (items[1]["call_id"], items[2]["output"]) == ("c", "42")
    validate(ro.item_list(items, 20, "asc", None), "ResponseItemList")
    assert chat.build_prompt(tr.items_to_messages(items)) == (
        "Human: t\n[image 1]\n\nAssistant: [called tool `f` with arguments {} (call id c)]\n\n"
        "Tool (result of call c): 42\n\nAssistant:"
    )


def test_history_sits_between_the_instructions_and_this_turn():
    history = tr.items_to_messages(tr.normalize_input("earlier") + [ro.message_item("msg_1", "reply", "completed")])
    messages = tr.conversation("rules", ["guidance"], history, [{"role": "user", "content": "now"}])
    assert chat.build_prompt(messages) == (
        "System: rules\n\nguidance\n\nHuman: earlier\n\nAssistant: reply\n\nHuman: now\n\nAssistant:"
    )


@pytest.mark.parametrize(
    "order, after, limit, expected, has_more",
    [
        ("asc", None, 2, ["a", "b"], True),
        ("asc", "b", 2, ["c", "d"], False),
        ("desc", None, 3, ["d", "c", "b"], True),
        ("desc", "c", 5, ["b", "a"], False),
        ("asc", "d", 5, [], False),
    ],
)
def test_item_pages_follow_order_and_cursor(order, after, limit, expected, has_more):
    items = [{"id": x} for x in "abcd"]
    page = ro.item_list(items, limit, order, after)
    assert [i["id"] for i in page["data"]] == expected and page["has_more"] is has_more
    assert page["first_id"] == (expected[0] if expected else "") and page["last_id"] == (expected[-1] if expected else "")


def test_an_unknown_cursor_is_refused():
    with pytest.raises(InvalidRequest) as caught:
        ro.item_list([{"id": "a"}], 5, "asc", "zzz")
    assert caught.value.param == "after"


def test_response_objects_and_events_validate_for_every_status():
    request = parse_responses({"model": "gpt-4o-mini", "input": "x", "user": "u", "metadata": {"a": "b"}})
    item = ro.message_item("msg_1", "text", "completed")
    usage = ro.usage(3, 4)
    assert usage["total_tokens"] == 7
    validate(ro.response(request, "resp_1", 1, "in_progress", []), "Response")
    validate(ro.response(request, "resp_1", 1, "completed", [item], token_usage=usage, completed_at=2), "Response")
    validate(ro.response(request, "resp_1", 1, "incomplete", [item], token_usage=usage,
                         incomplete_reason="max_output_tokens"), "Response")
    failed = ro.response(request, "resp_1", 1, "failed", [], token_usage=usage, error=ro.failure("boom"))
    validate(failed, "Response")
    seq = ro.EventSequence()
    events = ro.MessageEvents(seq, "msg_1")
    stream = [seq("response.created", response=failed), *events.opened(), events.delta("te"), *events.closed("text", "completed")]
    assert [e["sequence_number"] for e in stream] == list(range(len(stream)))
    for event in stream:
        validate(event, "ResponseStreamEvent")
