"""POST /v1/chat/completions through the official SDK, daphne and the 1min.ai simulator."""
import json

import httpx
import openai
import pytest

from tests.conftest import TEST_KEY
from tests.openai_schema import validate

CJK_EMOJI = "Hello, 世界! 你好 👋🏽 — naïve café 🚀"


def chat_requests(sim):
    return sim.requests_to("/api/chat-with-ai")


def test_it_answers_a_chat_completion_that_validates_against_openais_schema(client, sim):
    sim.script({"text": "Pong", "metadata": {"inputToken": 98, "outputToken": 3, "totalToken": 101}})
    completion = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "ping"}]
    )
    body = json.loads(completion.text)
    validate(body, "CreateChatCompletionResponse")
    assert body["choices"][0]["message"]["content"] == "Pong"
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["prompt_tokens"] == 98 and body["usage"]["completion_tokens"] == 3
    assert body["model"] == "gpt-4o-mini" and body["id"].startswith("chatcmpl-")


def test_it_forwards_the_key_as_api_key_and_flattens_every_role(client, sim):
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "developer", "content": "no jokes"},
            {"role": "user", "name": "ann", "content": [{"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_9", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_9", "content": "42"},
        ],
        temperature=0.2, top_p=0.9, seed=1, presence_penalty=0.1, frequency_penalty=0.1, user="u1",
        metadata={"a": "b"},
        tools=[{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}],
        tool_choice="none",  # tools offered are covered by test_chat_tools; here only the history's form
    )
    (received,) = chat_requests(sim)
    assert received["headers"]["api-key"] == TEST_KEY
    assert "authorization" not in received["headers"]
    assert received["json"]["type"] == "UNIFY_CHAT_WITH_AI"
    assert received["json"]["model"] == "gpt-4o-mini"
    assert received["json"]["promptObject"]["prompt"] == (
        "System: be brief\n\nDeveloper: no jokes\n\nHuman (ann): hi\n\n"
        'Assistant: <tool_call>{"name": "lookup", "arguments": {}}</tool_call>\n\n'
        'Tool: <tool_result call_id="call_9" name="lookup">42</tool_result>\n\nAssistant:'
    )
    assert "temperature" not in json.dumps(received["json"])


def test_usage_is_counted_locally_when_upstream_reports_zeros(client, sim):
    sim.configure(metadata_mode="zeros")
    sim.script({"text": "four five six"})
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hello world"}])
    assert completion.usage.prompt_tokens == 9
    assert completion.usage.completion_tokens == 3
    assert completion.usage.total_tokens == 12


def test_it_applies_stop_and_max_tokens_locally(client, sim):
    sim.script({"text": "alpha beta END gamma"})
    stopped = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stop=["END"])
    assert stopped.choices[0].message.content == "alpha beta "
    assert stopped.choices[0].finish_reason == "stop"
    sim.script({"text": "one two three four five six seven"})
    cut = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], max_tokens=2)
    assert cut.choices[0].message.content == "one two"
    assert cut.choices[0].finish_reason == "length"
    assert cut.usage.completion_tokens == 2


def test_provider_finish_reasons_are_mapped(client, sim):
    sim.script({"text": "t", "finish_reason": "MAX_TOKENS"})
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert completion.choices[0].finish_reason == "length"


def test_n_above_one_is_a_clear_400(client, sim):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", n=2, messages=[{"role": "user", "content": "x"}])
    assert caught.value.body["param"] == "n"
    assert chat_requests(sim) == []


def test_a_missing_key_is_a_401_envelope(relay, sim):
    response = httpx.post(f"{relay.url}/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": []})
    assert response.status_code == 401
    validate(response.json(), "ErrorResponse")
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_x_api_key_is_accepted(relay, sim):
    response = httpx.post(
        f"{relay.url}/v1/chat/completions",
        headers={"x-api-key": "alt-key-123"},
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]},
    )
    assert response.status_code == 200, response.text
    assert chat_requests(sim)[0]["headers"]["api-key"] == "alt-key-123"


def test_a_key_rejected_upstream_is_a_401(relay, sim):
    bad = openai.OpenAI(base_url=f"{relay.url}/v1", api_key="bad-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        bad.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert "bad-key" not in str(caught.value.body)


@pytest.mark.parametrize("model", ["no-such-model", "claude-retired-1"])
def test_unknown_and_disabled_models_are_404_model_not_found(client, sim, model):
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}])
    assert caught.value.code == "model_not_found"
    assert chat_requests(sim) == []


def test_online_suffix_turns_on_web_search(client, sim):
    completion = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini:online", messages=[{"role": "user", "content": "news?"}]
    )
    assert completion.headers.get("x-websearch-degraded") is None
    (received,) = chat_requests(sim)
    assert received["json"]["model"] == "gpt-4o-mini"
    assert received["json"]["promptObject"]["settings"]["webSearchSettings"] == {
        "webSearch": True, "numOfSite": 1, "maxWord": 500}
    assert json.loads(completion.text)["model"] == "gpt-4o-mini:online"


def test_web_search_failure_retries_once_without_it_and_says_so(client, sim):
    sim.configure(web_search_400=True)
    completion = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini:online", messages=[{"role": "user", "content": "news?"}]
    )
    assert completion.headers["x-websearch-degraded"] == "true"
    first, second = chat_requests(sim)
    assert first["json"]["promptObject"]["settings"]["webSearchSettings"]["webSearch"] is True
    assert second["json"]["promptObject"]["settings"]["webSearchSettings"]["webSearch"] is False


@pytest.mark.parametrize(
    "script, status, error_type",
    [
        ({"status": 400, "error_code": "SOMETHING_ODD", "message": "odd input"}, 400, "invalid_request_error"),
        # Longer than UPSTREAM_RETRY_MAX_WAIT: passed on at once, not waited for.
        ({"status": 429, "retry_after": 60}, 429, "requests"),
        ({"status": 500, "envelope": "text", "message": "boom"}, 502, "api_error"),
        ({"status": 522, "envelope": "html"}, 502, "api_error"),
        ({"invalid_json": True}, 502, "api_error"),
    ],
)
def test_upstream_errors_become_openai_errors(relay, sim, script, status, error_type):
    sim.script(script, times=None)  # every retry meets the same failure
    response = httpx.post(
        f"{relay.url}/v1/chat/completions", headers={"Authorization": f"Bearer {TEST_KEY}"},
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}, timeout=30,
    )
    assert response.status_code == status, response.text
    validate(response.json(), "ErrorResponse")
    assert response.json()["error"]["type"] == error_type
    if status == 429:
        assert response.headers["retry-after"] == "60"
    if script.get("error_code"):
        assert response.json()["error"]["code"] == "SOMETHING_ODD"
        assert "odd input" in response.json()["error"]["message"]


def test_upstream_timeouts_are_504(relay_factory, sim):
    slow = relay_factory(UPSTREAM_READ_TIMEOUT="0.5")
    sim.script({"delay_headers_ms": 3000})
    response = httpx.post(
        f"{slow.url}/v1/chat/completions", headers={"Authorization": f"Bearer {TEST_KEY}"},
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}, timeout=30,
    )
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"
