"""Tests for the OpenAI response-schema validator (no Django, no database)."""

from __future__ import annotations

import pytest

from tests.openai_schema import errors, published_schema, validate


def chat_completion() -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello!", "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


def chat_chunk(**choice_overrides) -> dict:
    choice = {"index": 0, "delta": {"content": "Hel"}, "finish_reason": None}
    choice.update(choice_overrides)
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-mini",
        "choices": [choice],
    }


def response_obj() -> dict:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1700000000,
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "model": "gpt-4o-mini",
        "tools": [],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "metadata": {},
        "temperature": 1,
        "top_p": 1,
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": "Hello!", "annotations": [], "logprobs": []}
                ],
            }
        ],
        "usage": {
            "input_tokens": 3,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": 2,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 5,
        },
    }


# --- chat.completion -------------------------------------------------------


def test_minimal_chat_completion_passes():
    validate(chat_completion(), "CreateChatCompletionResponse")
    assert errors(chat_completion(), "CreateChatCompletionResponse") == []


def test_chat_completion_missing_choices_fails():
    body = chat_completion()
    del body["choices"]
    with pytest.raises(AssertionError) as exc:
        validate(body, "CreateChatCompletionResponse")
    assert "$: 'choices' is a required property" in str(exc.value)
    assert "CreateChatCompletionResponse" in str(exc.value)


def test_chat_completion_bad_finish_reason_fails():
    body = chat_completion()
    body["choices"][0]["finish_reason"] = "banana"
    errs = errors(body, "CreateChatCompletionResponse")
    assert len(errs) == 1
    assert errs[0].startswith("$.choices[0].finish_reason: 'banana' is not one of")


def test_every_error_is_listed_with_its_path():
    body = chat_completion()
    body["choices"][0]["finish_reason"] = "banana"
    body["object"] = "chat.completion.chunk"
    del body["model"]
    with pytest.raises(AssertionError) as exc:
        validate(body, "CreateChatCompletionResponse")
    text = str(exc.value)
    assert "(3 error(s))" in text
    for needle in ("$.choices[0].finish_reason:", "$.object:", "$: 'model' is a required"):
        assert needle in text


def test_chat_completion_non_nullable_finish_reason_rejects_null():
    # In the non-streaming response finish_reason is a plain enum (not nullable).
    body = chat_completion()
    body["choices"][0]["finish_reason"] = None
    assert errors(body, "CreateChatCompletionResponse")


def test_chat_completion_message_requires_refusal():
    body = chat_completion()
    del body["choices"][0]["message"]["refusal"]
    assert errors(body, "CreateChatCompletionResponse") == [
        "$.choices[0].message: 'refusal' is a required property"
    ]


# --- chat.completion.chunk (nullable: true handling) ----------------------


def test_spec_marks_chunk_usage_nullable():
    usage = published_schema("CreateChatCompletionStreamResponse")["properties"]["usage"]
    assert usage["nullable"] is True and usage["$ref"].endswith("/CompletionUsage")


def test_chunk_with_null_usage_passes():
    chunk = chat_chunk()
    chunk["usage"] = None
    validate(chunk, "CreateChatCompletionStreamResponse")


def test_chunk_usage_still_checked_when_not_null():
    chunk = chat_chunk()
    chunk["usage"] = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    validate(chunk, "CreateChatCompletionStreamResponse")
    chunk["usage"] = {"prompt_tokens": 3}
    assert errors(chunk, "CreateChatCompletionStreamResponse")
    chunk["usage"] = "none"
    assert errors(chunk, "CreateChatCompletionStreamResponse")


def test_spec_marks_chunk_finish_reason_nullable():
    fr = published_schema("CreateChatCompletionStreamResponse")["properties"]["choices"]["items"][
        "properties"
    ]["finish_reason"]
    assert fr["nullable"] is True and fr["type"] == "string" and "enum" in fr


@pytest.mark.parametrize("value", [None, "stop", "length", "tool_calls"])
def test_chunk_nullable_finish_reason_accepts_null_and_enum(value):
    validate(chat_chunk(finish_reason=value), "CreateChatCompletionStreamResponse")


@pytest.mark.parametrize("value", [123, "banana", False, []])
def test_chunk_nullable_finish_reason_rejects_wrong_type_or_value(value):
    errs = errors(chat_chunk(finish_reason=value), "CreateChatCompletionStreamResponse")
    assert errs and errs[0].startswith("$.choices[0].finish_reason:")


def test_chunk_nullable_object_logprobs():
    validate(chat_chunk(logprobs=None), "CreateChatCompletionStreamResponse")
    validate(
        chat_chunk(logprobs={"content": None, "refusal": None}),
        "CreateChatCompletionStreamResponse",
    )
    assert errors(chat_chunk(logprobs="x"), "CreateChatCompletionStreamResponse")
    # required inside the nullable object is kept
    assert errors(chat_chunk(logprobs={"content": None}), "CreateChatCompletionStreamResponse")


def test_chunk_choice_requires_finish_reason_key():
    chunk = chat_chunk()
    del chunk["choices"][0]["finish_reason"]
    assert errors(chunk, "CreateChatCompletionStreamResponse") == [
        "$.choices[0]: 'finish_reason' is a required property"
    ]


# --- errors and models ----------------------------------------------------


def test_error_envelope_validates():
    body = {"error": {"message": "m", "type": "t", "param": None, "code": None}}
    validate(body, "ErrorResponse")
    validate(body["error"], "Error")


def test_error_envelope_requires_param_and_code_keys():
    errs = errors({"error": {"message": "m", "type": "t"}}, "ErrorResponse")
    assert "$.error: 'param' is a required property" in errs
    assert "$.error: 'code' is a required property" in errs
    bad = {"error": {"message": "m", "type": "t", "param": None, "code": 429}}
    assert errors(bad, "ErrorResponse")


def test_model_schema_permits_additional_properties():
    model = published_schema("Model")
    assert "additionalProperties" not in model


def test_list_models_with_extra_fields_passes():
    body = {
        "object": "list",
        "data": [
            {
                "id": "gpt-4o-mini",
                "object": "model",
                "created": 1700000000,
                "owned_by": "system",
                "context_window": 128000,
                "pricing": {"input": 0.1},
            }
        ],
    }
    validate(body, "ListModelsResponse")
    body["data"][0]["object"] = "models"
    assert errors(body, "ListModelsResponse") == [
        "$.data[0].object: 'models' is not one of ['model']"
    ]


def test_list_models_missing_owned_by_fails():
    body = {"object": "list", "data": [{"id": "m", "object": "model", "created": 1}]}
    assert errors(body, "ListModelsResponse") == [
        "$.data[0]: 'owned_by' is a required property"
    ]


# --- Responses API ----------------------------------------------------------


def test_minimal_response_passes():
    validate(response_obj(), "Response")


@pytest.mark.parametrize(
    "field",
    ["tools", "tool_choice", "parallel_tool_calls", "output", "metadata", "temperature", "top_p"],
)
def test_response_required_fields(field):
    body = response_obj()
    del body[field]
    assert errors(body, "Response") == [f"$: '{field}' is a required property"]


def test_response_usage_is_not_nullable():
    body = response_obj()
    body["usage"] = None
    assert errors(body, "Response") == ["$.usage: None is not of type 'object'"]


def test_response_stream_events():
    delta = {
        "type": "response.output_text.delta",
        "item_id": "msg_1",
        "output_index": 0,
        "content_index": 0,
        "delta": "Hel",
        "sequence_number": 4,
        "logprobs": [],
    }
    validate(delta, "ResponseTextDeltaEvent")
    validate(delta, "ResponseStreamEvent")
    completed = {"type": "response.completed", "sequence_number": 9, "response": response_obj()}
    validate(completed, "ResponseCompletedEvent")
    validate(completed, "ResponseStreamEvent")


def test_response_stream_event_error_points_at_matching_member():
    delta = {
        "type": "response.output_text.delta",
        "item_id": "msg_1",
        "output_index": 0,
        "content_index": 0,
        "delta": 1,
        "logprobs": [],
    }
    with pytest.raises(AssertionError) as exc:
        validate(delta, "ResponseStreamEvent")
    text = str(exc.value)
    assert "alternative(s) matching 'type'" in text
    assert "$: 'sequence_number' is a required property" in text
    assert "$.delta: 1 is not of type 'string'" in text


def test_nested_union_error_reports_deep_path():
    body = response_obj()
    del body["output"][0]["content"][0]["logprobs"]
    text = "\n".join(errors(body, "Response"))
    assert "$.output[0].content[0]: 'logprobs' is a required property" in text
