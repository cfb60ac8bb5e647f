"""POST /v1/responses (not streamed): every input form reaches the prompt; the Response is complete."""
import base64
import json

import httpx

from tests.conftest import TEST_KEY
from tests.e2e.responses_support import auth, post, prompts
from tests.e2e.test_vision import tiny_png
from tests.openai_schema import validate


def test_it_answers_with_a_response_that_validates_and_gives_the_sdk_its_output_text(client, relay, sim):
    sim.script({"text": "Pong", "metadata": {"inputToken": 40, "outputToken": 2, "totalToken": 42}})
    response = client.responses.create(model="gpt-4o-mini", input="ping")
    assert response.output_text == "Pong"
    assert response.status == "completed" and response.error is None and response.incomplete_details is None
    assert response.id.startswith("resp_") and response.output[0].id.startswith("msg_")
    assert response.usage.input_tokens == 40 and response.usage.output_tokens == 2 and response.usage.total_tokens == 42
    body = httpx.get(f"{relay.url}/v1/responses/{response.id}", headers=auth()).json()
    validate(body, "Response")
    assert body["object"] == "response" and body["model"] == "gpt-4o-mini"
    assert body["output"] == [{
        "id": response.output[0].id, "type": "message", "status": "completed", "role": "assistant",
        "content": [{"type": "output_text", "text": "Pong", "annotations": [], "logprobs": []}],
    }]
    assert body["usage"]["input_tokens_details"] == {"cached_tokens": 0, "cache_write_tokens": 0}
    assert body["usage"]["output_tokens_details"] == {"reasoning_tokens": 0}
    assert prompts(sim) == ["ping"]


def test_usage_is_counted_locally_when_upstream_reports_zeros(client, sim):
    sim.configure(metadata_mode="zeros")
    sim.script({"text": "four five six"})
    response = client.responses.create(model="gpt-4o-mini", input="hello world")
    assert response.usage.output_tokens == 3
    assert response.usage.input_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + 3


def test_message_items_of_every_role_with_and_without_type_are_flattened_in_order(client, sim):
    client.responses.create(
        model="gpt-4o-mini",
        input=[
            {"role": "system", "content": "be brief"},
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "no jokes"}]},
            {"role": "user", "content": [{"type": "input_text", "text": "hi"}, {"type": "input_text", "text": "there"}]},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hello"}]},
            {"role": "user", "content": "and now?"},
        ],
    )
    assert prompts(sim) == [
        "System: be brief\n\nDeveloper: no jokes\n\nHuman: hi\nthere\n\nAssistant: hello\n\nHuman: and now?\n\nAssistant:"
    ]


def test_function_calls_and_their_outputs_are_written_in_the_calling_convention(client, sim):
    client.responses.create(
        model="gpt-4o-mini",
        input=[
            {"role": "user", "content": "weather in Oslo?"},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "sunny, 21C"},
        ],
    )
    assert prompts(sim) == [
        "Human: weather in Oslo?\n\n"
        "Assistant: <tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}</tool_call>\n\n"
        "Tool: <tool_result call_id=\"call_1\" name=\"get_weather\">sunny, 21C</tool_result>\n\nAssistant:"
    ]


def test_input_images_as_data_uris_and_urls_are_uploaded_and_attached(client, sim):
    png = tiny_png()
    url = sim.publish("cat.png", png, "image/png")
    client.responses.create(model="gpt-4o", input=[{"role": "user", "content": [
        {"type": "input_text", "text": "Compare"},
        {"type": "input_image", "image_url": "data:image/png;base64," + base64.b64encode(png).decode()},
        {"type": "input_image", "image_url": url, "detail": "low"},
    ]}])
    uploads = sim.requests_to("/api/assets")
    assert [u["form"]["files"][0]["data"] for u in uploads] == [png, png]
    (chat,) = sim.requests_to("/api/chat-with-ai")
    assert len(chat["json"]["promptObject"]["attachments"]["images"]) == 2
    assert chat["json"]["promptObject"]["prompt"] == "Compare\n[image 1]\n[image 2]"


def test_instructions_lead_the_prompt_as_a_system_turn_and_are_echoed(client, sim):
    response = client.responses.create(model="gpt-4o-mini", instructions="Answer in French.", input="hello")
    assert prompts(sim) == ["System: Answer in French.\n\nHuman: hello\n\nAssistant:"]
    assert response.instructions == "Answer in French."


def test_the_earlier_relays_chat_style_messages_field_still_works(relay, sim):
    response = post(relay, {"model": "gpt-4o-mini", "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "name": "ann", "content": [{"type": "text", "text": "hi"}]},
    ]})
    assert response.status_code == 200, response.text
    validate(response.json(), "Response")
    assert prompts(sim) == ["System: be brief\n\nHuman (ann): hi\n\nAssistant:"]
    items = httpx.get(f"{relay.url}/v1/responses/{response.json()['id']}/input_items?order=asc", headers=auth()).json()
    validate(items, "ResponseItemList")
    assert [i["role"] for i in items["data"]] == ["system", "user"]


def test_reasoning_effort_becomes_guidance_in_the_prompt_in_both_spellings(client, relay, sim):
    response = client.responses.create(model="gpt-4o-mini", input="why?", reasoning={"effort": "high"})
    assert response.reasoning.effort == "high"
    post(relay, {"model": "gpt-4o-mini", "input": "why?", "reasoning_effort": "low"})
    client.responses.create(model="gpt-4o-mini", input="why?", reasoning={"effort": "minimal"})
    high, low, minimal = prompts(sim)
    assert high.startswith("System: Carefully analyze all aspects of the problem") and high.endswith("Human: why?\n\nAssistant:")
    assert low.startswith("System: Provide a direct and concise response.")
    assert minimal.startswith("System: Answer directly with the result")


def test_online_models_search_the_web_and_echo_the_model_as_sent(client, sim):
    response = client.responses.create(model="gpt-4o-mini:online", input="news?")
    (chat,) = sim.requests_to("/api/chat-with-ai")
    assert chat["json"]["model"] == "gpt-4o-mini"
    assert chat["json"]["promptObject"]["settings"]["webSearchSettings"]["webSearch"] is True
    assert response.model == "gpt-4o-mini:online"


def test_max_output_tokens_cuts_the_answer_and_marks_it_incomplete(client, relay, sim):
    sim.script({"text": "one two three four five six seven"})
    response = client.responses.create(model="gpt-4o-mini", input="count", max_output_tokens=2)
    assert response.output_text == "one two"
    assert response.status == "incomplete"
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output[0].status == "incomplete"
    assert response.usage.output_tokens == 2 and response.max_output_tokens == 2
    validate(httpx.get(f"{relay.url}/v1/responses/{response.id}", headers=auth()).json(), "Response")


def test_settings_1min_ai_lacks_are_echoed_as_openai_does_and_not_forwarded(relay, sim):
    # Tools are forwarded (in the prompt): tests/e2e/test_responses_tools.py; here `none` keeps them out.
    tools = [{"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}]
    body = post(relay, {
        "model": "gpt-4o-mini", "input": "x", "temperature": 0.2, "top_p": 0.5, "tools": tools,
        "tool_choice": "none", "parallel_tool_calls": False, "metadata": {"team": "blue"}, "user": "u-1",
        "truncation": "auto", "store": True, "text": {"verbosity": "low"},
    }).json()
    validate(body, "Response")
    assert (body["temperature"], body["top_p"], body["tool_choice"], body["parallel_tool_calls"]) == (0.2, 0.5, "none", False)
    assert body["metadata"] == {"team": "blue"} and body["user"] == "u-1" and body["truncation"] == "auto"
    assert body["tools"][0]["name"] == "lookup" and body["tools"][0]["strict"] is True
    assert body["text"] == {"format": {"type": "text"}, "verbosity": "low"}
    (chat,) = sim.requests_to("/api/chat-with-ai")
    sent = json.dumps(chat["json"])
    assert "temperature" not in sent and "lookup" not in sent and "blue" not in sent
    assert chat["json"]["promptObject"]["prompt"].startswith("System: Keep the answer as short as possible.")


def test_defaults_are_echoed_and_user_is_left_out_when_not_given(relay, sim):
    body = post(relay, {"model": "gpt-4o-mini", "input": "x"}).json()
    validate(body, "Response")
    assert (body["temperature"], body["top_p"], body["tools"], body["tool_choice"]) == (1.0, 1.0, [], "auto")
    assert body["parallel_tool_calls"] is True and body["metadata"] == {} and body["store"] is True
    assert body["reasoning"] == {"effort": None, "summary": None} and body["previous_response_id"] is None
    assert "user" not in body and body["truncation"] == "disabled"


def test_web_search_refused_upstream_is_retried_without_it_and_flagged(relay, sim):
    sim.configure(web_search_400=True)
    response = httpx.post(f"{relay.url}/v1/responses", headers={"Authorization": f"Bearer {TEST_KEY}"},
                          json={"model": "gpt-4o-mini:online", "input": "news?"}, timeout=30)
    assert response.status_code == 200 and response.headers["X-WebSearch-Degraded"] == "true"
    assert len(sim.requests_to("/api/chat-with-ai")) == 2
