"""Validation of chat request bodies: what is accepted, and the param each refusal names."""
import pytest

from core.errors import InvalidRequest
from api.request_schemas.text import parse_chat

OK = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(
    "body, param",
    [
        ([], None),
        ({"model": 5, "messages": OK["messages"]}, "model"),
        ({"model": ":online", "messages": OK["messages"]}, "model"),
        ({"model": "gpt-4o"}, "messages"),
        ({"model": "gpt-4o", "messages": []}, "messages"),
        ({"model": "gpt-4o", "messages": ["hi"]}, "messages[0]"),
        ({"model": "gpt-4o", "messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"model": "gpt-4o", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "file", "file": {}}]}]}, "messages[0].content[0].type"),
        ({"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}, "messages[0].content[0].image_url"),
        ({**OK, "n": 3}, "n"),
        ({**OK, "max_tokens": 0}, "max_tokens"),
        ({**OK, "max_completion_tokens": "9"}, "max_completion_tokens"),
        ({**OK, "stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({**OK, "stream": "yes"}, "stream"),
        ({**OK, "model": "  "}, "model"),
        ({**OK, "temperature": [[None, 1e308], {}]}, "temperature"),
        ({**OK, "temperature": 2.5}, "temperature"),
        ({**OK, "top_p": -0.1}, "top_p"),
        ({**OK, "user": 7}, "user"),
        ({**OK, "max_tokens": 2**64}, "max_tokens"),
        ({**OK, "max_tokens": 2.5}, "max_tokens"),
        ({**OK, "function_call": {}}, "function_call"),
        ({**OK, "function_call": {"name": "f"}}, "function_call"),
        ({**OK, "messages": [{"role": "user", "content": "x", "name": 5}]}, "messages[0].name"),
        ({**OK, "messages": [{"role": "tool", "content": "x", "tool_call_id": 5}]}, "messages[0].tool_call_id"),
        ({**OK, "messages": [{"role": "assistant", "content": None, "function_call": {"name": "f"}}]},
         "messages[0].function_call"),
    ],
)
def test_it_refuses_bad_bodies_naming_the_param(body, param):
    with pytest.raises(InvalidRequest) as caught:
        parse_chat(body)
    assert caught.value.param == param
    assert caught.value.status == 400


def test_it_accepts_and_reads_the_options_1min_ai_lacks():
    chat = parse_chat({**OK, "model": "gpt-4o:online", "stream": True, "stream_options": {"include_usage": True},
                       "stop": "END", "max_completion_tokens": 7, "temperature": 2, "tools": [], "n": 1})
    assert (chat.upstream_model, chat.web_search, chat.model) == ("gpt-4o", True, "gpt-4o:online")
    assert chat.include_usage and chat.stop == ["END"] and chat.max_tokens == 7


def test_usage_is_only_included_for_streams():
    assert parse_chat({**OK, "stream_options": {"include_usage": True}}).include_usage is False


def test_whole_numbers_count_as_integers_as_json_schema_says():
    assert parse_chat({**OK, "max_tokens": 5.0}).max_tokens == 5


def test_frames_carry_integers_orjson_refuses():
    from api.streaming import data_frame

    assert data_frame({"n": 2**70}) == b'data: {"n":1180591620717411303424}\n\n'
