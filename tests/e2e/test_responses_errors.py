"""Refused /v1/responses requests: OpenAI's error envelope, the right status, the offending param."""
import pytest

from tests.e2e.responses_support import post
from tests.openai_schema import validate

PERSON = {"type": "object", "properties": {"name": {"type": "string"}}}
IMAGE = {"type": "input_image", "file_id": "file-123"}


@pytest.mark.parametrize(
    "body, status, param",
    [
        ({"model": ["gpt-4o"], "input": "x"}, 400, "model"),  # omitted is fine: DEFAULT_MODEL
        ({"model": "gpt-4o-mini"}, 400, "input"),
        ({"model": "gpt-4o-mini", "input": ""}, 400, "input"),
        ({"model": "gpt-4o-mini", "input": []}, 400, "input"),
        ({"model": "gpt-4o-mini", "input": 42}, 400, "input"),
        ({"model": "gpt-4o-mini", "input": ["text"]}, 400, "input[0]"),
        ({"model": "gpt-4o-mini", "input": [{"role": "tool", "content": "x"}]}, 400, "input[0].role"),
        ({"model": "gpt-4o-mini", "input": [{"role": "user", "content": 7}]}, 400, "input[0].content"),
        ({"model": "gpt-4o-mini", "input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]},
         400, "input[0].content[0].type"),
        ({"model": "gpt-4o-mini", "input": [{"role": "user", "content": [IMAGE]}]}, 400, "input[0].content[0].file_id"),
        ({"model": "gpt-4o-mini", "input": [{"role": "assistant", "content": [{"type": "input_image", "image_url": "x"}]}]},
         400, "input[0].content[0].type"),
        ({"model": "gpt-4o-mini", "input": [{"type": "reasoning", "summary": []}]}, 400, "input[0].type"),
        ({"model": "gpt-4o-mini", "input": [{"type": "function_call", "name": "f", "arguments": "{}"}]},
         400, "input[0].call_id"),
        ({"model": "gpt-4o-mini", "input": "x", "messages": [{"role": "user", "content": "y"}]}, 400, "messages"),
        ({"model": "gpt-4o-mini", "messages": [{"role": "wizard", "content": "y"}]}, 400, "messages[0].role"),
        ({"model": "gpt-4o-mini", "input": "x", "reasoning": {"effort": "extreme"}}, 400, "reasoning.effort"),
        ({"model": "gpt-4o-mini", "input": "x", "reasoning_effort": "turbo"}, 400, "reasoning_effort"),
        ({"model": "gpt-4o-mini", "input": "x", "reasoning": {"effort": "low"}, "reasoning_effort": "high"},
         400, "reasoning_effort"),
        ({"model": "gpt-4o-mini", "input": "x", "text": {"format": {"type": "yaml"}}}, 400, "text.format.type"),
        ({"model": "gpt-4o-mini", "input": "x", "text": {"format": {"type": "json_schema", "schema": PERSON}}},
         400, "text.format.name"),
        ({"model": "gpt-4o-mini", "input": "x", "text": {"format": {"type": "json_schema", "name": "p"}}},
         400, "text.format.schema"),
        ({"model": "gpt-4o-mini", "input": "x", "text": {"format": {"type": "json_schema", "name": "p",
                                                                   "schema": {"type": "nope"}}}},
         400, "text.format.schema"),
        ({"model": "gpt-4o-mini", "input": "x", "text": {"verbosity": "loud"}}, 400, "text.verbosity"),
        ({"model": "gpt-4o-mini", "input": "x", "text": {"format": {"type": "text"}}, "response_format": {"type": "text"}},
         400, "response_format"),
        ({"model": "gpt-4o-mini", "input": "x", "response_format": {"type": "json_schema", "json_schema": {"name": "p"}}},
         400, "response_format.json_schema.schema"),
        ({"model": "gpt-4o-mini", "input": "x", "max_output_tokens": 0}, 400, "max_output_tokens"),
        ({"model": "gpt-4o-mini", "input": "x", "temperature": 3}, 400, "temperature"),
        ({"model": "gpt-4o-mini", "input": "x", "top_p": "high"}, 400, "top_p"),
        ({"model": "gpt-4o-mini", "input": "x", "metadata": {"n": 1}}, 400, "metadata"),
        ({"model": "gpt-4o-mini", "input": "x", "top_logprobs": 21}, 400, "top_logprobs"),
        ({"model": "gpt-4o-mini", "input": "x", "tools": [{"type": "function"}]}, 400, "tools[0].name"),
        ({"model": "gpt-4o-mini", "input": "x", "tool_choice": "sometimes"}, 400, "tool_choice"),
        ({"model": "gpt-4o-mini", "input": "x", "stream": "yes"}, 400, "stream"),
        ({"model": "gpt-4o-mini", "input": "x", "store": 1}, 400, "store"),
        ({"model": "gpt-4o-mini", "input": "x", "background": True}, 400, "background"),
        ({"model": "gpt-4o-mini", "input": "x", "conversation": "conv_1"}, 400, "conversation"),
        ({"model": "no-such-model", "input": "x"}, 404, "model"),
        ({"model": "gpt-4o-mini", "input": "x", "previous_response_id": "resp_missing"}, 404, "previous_response_id"),
    ],
)
def test_it_refuses_bad_requests_naming_the_parameter(relay, sim, body, status, param):
    response = post(relay, body)
    assert response.status_code == status, response.text
    validate(response.json(), "ErrorResponse")
    assert response.json()["error"]["param"] == param
    assert sim.requests_to("/api/chat-with-ai") == []


def test_images_for_a_text_only_model_are_a_400_before_anything_is_uploaded(relay, sim):
    response = post(relay, {"model": "open-mistral-nemo", "input": [{"role": "user", "content": [
        {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}]}]})
    assert response.status_code == 400 and response.json()["error"]["code"] == "model_not_vision_capable"
    assert sim.requests_to("/api/assets") == []


def test_upstream_errors_keep_their_status_in_the_openai_envelope(relay, sim):
    sim.script({"status": 400, "error_code": "UNSUPPORTED_MODEL", "message": "Model gpt-4o-mini is not supported"})
    response = post(relay, {"model": "gpt-4o-mini", "input": "x"})
    assert response.status_code == 400 and "not supported" in response.json()["error"]["message"]
    sim.script({"status": 503, "message": "down"}, times=None)  # a lasting 503: the retries meet it too
    response = post(relay, {"model": "gpt-4o-mini", "input": "x"})
    assert response.status_code == 502
    validate(response.json(), "ErrorResponse")
