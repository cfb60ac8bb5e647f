"""Anthropic Messages: request validation, conversion to chat messages, stop reasons and the error envelope."""
from __future__ import annotations

import pytest

from core.errors import (
    AuthenticationFailed, InvalidRequest, PayloadTooLarge, PermissionDenied, RateLimited, RelayError,
    UpstreamError, UpstreamOverloaded, UpstreamTimeout, anthropic_body, envelope_body, envelope_for_path,
)
from api.request_schemas.anthropic import parse_messages_request
from api.tool_emulation.spec import ToolChoice
from api.translators import anthropic_response as ar
from api.translators.anthropic_request import to_chat_messages

PNG_SOURCE = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}


def request(**fields):
    return {"model": "gpt-4o-mini", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}], **fields}


def test_a_tool_loop_history_becomes_chat_messages_the_engine_reads():
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "x"},
            {"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_2", "name": "time", "input": {}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "18C"}]},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "no clock", "is_error": True},
            {"type": "text", "text": "Thanks"}]},
    ]
    assert to_chat_messages(["Be brief.", "Be kind."], messages) == [
        {"role": "system", "content": "Be brief.\n\nBe kind."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "Let me look.", "tool_calls": [
            {"id": "toolu_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}},
            {"id": "toolu_2", "type": "function", "function": {"name": "time", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
        {"role": "tool", "tool_call_id": "toolu_2", "content": "[the tool reported an error] no clock"},
        {"role": "user", "content": "Thanks"},
    ]


def test_images_in_a_tool_result_travel_with_the_user_turn_that_carries_it():
    messages = [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": [
        {"type": "text", "text": "a chart"}, {"type": "image", "source": PNG_SOURCE}]}]}]
    assert to_chat_messages([], messages) == [
        {"role": "tool", "tool_call_id": "toolu_9", "content": "a chart"},
        {"role": "user", "content": [
            {"type": "text", "text": "(images from the result of call toolu_9)"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
    ]


def test_images_become_image_url_parts_wherever_they_stand():
    messages = [{"role": "user", "content": [
        {"type": "text", "text": "see"}, {"type": "image", "source": PNG_SOURCE},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}]}]
    assert to_chat_messages([], messages) == [{"role": "user", "content": [
        {"type": "text", "text": "see"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}]


@pytest.mark.parametrize("fields, message", [
    ({"max_tokens": None}, "max_tokens: Field required"),
    ({"max_tokens": 0}, "max_tokens: must be a positive integer"),
    ({"max_tokens": True}, "max_tokens: must be a positive integer"),
    ({"messages": []}, "messages: must be a non-empty list"),
    ({"messages": [{"role": "bot", "content": "x"}]}, "messages.0.role"),
    ({"messages": [{"role": "user", "content": [{"type": "document", "source": {}}]}]}, "messages.0.content.0.type: `document`"),
    ({"messages": [{"role": "user", "content": [{"type": "tool_use", "id": "a", "name": "b", "input": {}}]}]}, "messages.0.content.0.type"),
    ({"messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "file", "file_id": "f"}}]}]}, "messages.0.content.0.source.type"),
    ({"messages": [{"role": "user", "content": [{"type": "image", "source": {**PNG_SOURCE, "media_type": "image/bmp"}}]}]}, "source.media_type"),
    ({"system": [{"type": "image", "source": PNG_SOURCE}]}, "system.0: must be a text block"),
    ({"temperature": 1.5}, "temperature: must be a number between 0 and 1"),
    ({"stop_sequences": "END"}, "stop_sequences: must be a list of strings"),
    ({"stream": "yes"}, "stream: must be a boolean"),
    ({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "tools.0.type"),
    ({"tools": [{"name": "f"}]}, "tools.0.input_schema"),
    ({"tools": [{"name": "f", "input_schema": {}}], "tool_choice": {"type": "tool", "name": "g"}}, "tool_choice.name"),
    ({"tool_choice": {"type": "any"}}, "tool_choice: needs `tools`"),
    ({"messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "x",
                                                  "is_error": "yes"}]}]}, "content.0.is_error: must be a boolean"),
    ({"max_tokens": 2**40}, "max_tokens: must be a positive integer"),
])
def test_bad_requests_are_refused_naming_the_field(fields, message):
    body = {k: v for k, v in request(**fields).items() if v is not None}
    with pytest.raises(InvalidRequest) as caught:
        parse_messages_request(body, 4096)
    assert message in caught.value.message


def test_what_the_relay_cannot_use_is_accepted_and_max_tokens_is_clamped():
    parsed = parse_messages_request(request(
        max_tokens=128000, thinking={"type": "enabled", "budget_tokens": 1000}, context_management={},
        metadata={"user_id": "u"}, top_k=5, temperature=0.5,
        messages=[{"role": "system", "content": "sys"}, {"role": "user", "content": [
            {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}],
    ), 4096)
    assert parsed.max_tokens == 4096 and parsed.tools is None
    assert parse_messages_request(request(max_tokens=50), 4096).max_tokens == 50
    counting = parse_messages_request({"model": "m", "messages": [{"role": "user", "content": "x"}]}, 4096, counting=True)
    assert counting.upstream_model == "m"


@pytest.mark.parametrize("choice, expected, parallel", [
    (None, ToolChoice("auto"), True),
    ({"type": "auto", "disable_parallel_tool_use": True}, ToolChoice("auto"), False),
    ({"type": "any"}, ToolChoice("required"), True),
    ({"type": "tool", "name": "f"}, ToolChoice("named", "f"), True),
    ({"type": "none"}, ToolChoice("none"), True),
])
def test_tool_choice_maps_onto_the_shared_engines_spec(choice, expected, parallel):
    fields = {"tools": [{"name": "f", "description": "d", "input_schema": {"type": "object"}}]}
    if choice is not None:
        fields["tool_choice"] = choice
    spec = parse_messages_request(request(**fields), 4096).tools
    assert (spec.choice, spec.parallel) == (expected, parallel)
    assert spec.tools[0].name == "f" and spec.tools[0].parameters == {"type": "object"}


@pytest.mark.parametrize("local, upstream, matched, reason", [
    (None, None, None, "end_turn"),
    (None, "MAX_TOKENS", None, "max_tokens"),
    (None, "complete", None, "end_turn"),
    ("length", "stop", None, "max_tokens"),
    ("stop", "stop", "END", "stop_sequence"),
    ("tool_calls", None, None, "tool_use"),
])
def test_stop_reasons(local, upstream, matched, reason):
    assert ar.stop_reason(local, upstream, matched) == reason


def test_tool_use_ids_keep_the_engines_random_part():
    assert ar.tool_use_id("call_abc123") == "toolu_abc123"
    assert ar.tool_use_id().startswith("toolu_")


@pytest.mark.parametrize("error, status, kind", [
    (InvalidRequest("x"), 400, "invalid_request_error"),
    (AuthenticationFailed("x"), 401, "authentication_error"),
    (RelayError("x", status=402, type="insufficient_quota"), 402, "billing_error"),
    (PermissionDenied("x"), 403, "permission_error"),
    (RelayError("x", status=404), 404, "not_found_error"),
    (PayloadTooLarge("x"), 413, "request_too_large"),
    (RateLimited("x"), 429, "rate_limit_error"),
    (RelayError("x", status=429, type="insufficient_quota"), 429, "rate_limit_error"),
    (RelayError("x"), 500, "api_error"),
    (UpstreamError("x"), 502, "api_error"),
    (UpstreamTimeout("x"), 504, "api_error"),
    (UpstreamOverloaded("x"), 529, "overloaded_error"),
    (RelayError("x", status=503, code="rate_limiter_unavailable"), 529, "overloaded_error"),
])
def test_each_error_in_anthropics_envelope_with_its_status(error, status, kind):
    assert envelope_body(error, "anthropic") == ({"type": "error", "error": {"type": kind, "message": "x"}}, status)
    assert anthropic_body(error)["error"]["type"] == kind
    assert envelope_body(error)[0] == error.body()  # OpenAI's stays as it was


def test_paths_choose_their_envelope():
    assert envelope_for_path("/v1/messages") == envelope_for_path("/v1/messages/count_tokens") == "anthropic"
    assert envelope_for_path("/v1/chat/completions") == envelope_for_path("/v1/messagesx") == "openai"


def test_a_tool_use_block_streams_as_start_json_pieces_and_stop():
    events = ar.tool_use_events(1, ar.tool_use_block("toolu_1", "f", {"q": "x" * 100}))
    assert [e["type"] for e in events] == ["content_block_start", "content_block_delta", "content_block_delta",
                                           "content_block_stop"]
    assert events[0]["content_block"] == {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}
    assert all(e["index"] == 1 for e in events)
    assert "".join(e["delta"]["partial_json"] for e in events[1:-1]) == '{"q": "' + "x" * 100 + '"}'
