"""Tools on /v1/responses: emulated function calls, web search as 1min.ai's, hosted tools refused by name."""
import json

import httpx
import openai
import pytest

from tests.e2e.responses_support import auth, post, prompts, stream_events, types
from tests.openai_schema import validate

WEATHER = {
    "type": "function", "name": "get_weather", "description": "Current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                   "additionalProperties": False},
}
TIME = {"type": "function", "name": "get_time", "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}}


def _stored(relay, response_id: str) -> dict:
    return httpx.get(f"{relay.url}/v1/responses/{response_id}", headers=auth(), timeout=30).json()


def _chat_bodies(sim) -> list[dict]:
    return [r["json"] for r in sim.requests_to("/api/chat-with-ai")]


# ---- web search ------------------------------------------------------------------------------

def test_web_search_tools_use_1min_ais_search_and_add_a_web_search_call_item(client, relay, sim):
    sim.script({"text": "Paris is sunny today."})
    response = client.responses.create(model="gpt-4o-mini", input="Weather in Paris?", tools=[{"type": "web_search"}])
    (sent,) = _chat_bodies(sim)
    assert sent["promptObject"]["settings"]["webSearchSettings"]["webSearch"] is True
    search, message = response.output
    assert (search.type, search.status, search.id[:3]) == ("web_search_call", "completed", "ws_")
    assert search.action.type == "search" and search.action.query == "Weather in Paris?"
    assert message.type == "message" and response.output_text == "Paris is sunny today."
    validate(_stored(relay, response.id), "Response")

    sim.reset()
    sim.script({"text": "Sunny."})
    events = stream_events(relay, {"model": "gpt-4o-mini", "input": "Weather?", "tools": [{"type": "web_search_preview"}]})
    deltas = [e for e in events if e["type"] == "response.output_text.delta"]
    assert "".join(e["delta"] for e in deltas) == "Sunny."
    assert [t for t in types(events) if t != "response.output_text.delta"] == [
        "response.created", "response.in_progress",
        "response.output_item.added", "response.web_search_call.in_progress", "response.web_search_call.searching",
        "response.web_search_call.completed", "response.output_item.done",
        "response.output_item.added", "response.content_part.added", "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed",
    ]
    assert [e["output_index"] for e in events if e["type"].startswith("response.output_item")] == [0, 0, 1, 1]
    final = events[-1]["response"]
    assert [item["type"] for item in final["output"]] == ["web_search_call", "message"]
    assert _chat_bodies(sim)[0]["promptObject"]["settings"]["webSearchSettings"]["webSearch"] is True


def test_a_refused_search_is_a_failed_web_search_call_and_tool_choice_none_turns_search_off(relay, sim):
    sim.configure(web_search_400=True)
    sim.script({"text": "From memory: mild."})
    response = post(relay, {"model": "gpt-4o-mini", "input": "Weather?", "tools": [{"type": "web_search"}]})
    body = response.json()
    validate(body, "Response")
    assert response.headers["x-websearch-degraded"] == "true"
    assert [(i["type"], i["status"]) for i in body["output"]] == [("web_search_call", "failed"), ("message", "completed")]

    sim.reset()
    sim.script({"text": "No search."})
    body = post(relay, {"model": "gpt-4o-mini", "input": "x", "tools": [{"type": "web_search"}], "tool_choice": "none"}).json()
    assert [i["type"] for i in body["output"]] == ["message"]
    assert "settings" not in _chat_bodies(sim)[0]["promptObject"]


# ---- refused tools and choices ---------------------------------------------------------------

@pytest.mark.parametrize(
    "tool, named",
    [
        ({"type": "file_search", "vector_store_ids": ["vs_1"]}, "`file_search` tool"),
        ({"type": "code_interpreter", "container": {"type": "auto"}}, "`code_interpreter` tool"),
        ({"type": "computer_use_preview", "display_width": 800, "display_height": 600, "environment": "linux"},
         "`computer_use_preview` tool"),
        ({"type": "image_generation"}, "`image_generation` tool"),
        ({"type": "mcp", "server_label": "deepwiki", "server_url": "https://mcp.example/sse"}, "`mcp` tool `deepwiki`"),
        ({"type": "local_shell"}, "`local_shell` tool"),
        ({"type": "custom", "name": "grammar_tool"}, "`custom` tool `grammar_tool`"),
    ],
)
def test_hosted_tools_the_relay_cannot_run_are_a_400_naming_the_tool(client, sim, tool, named):
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(model="gpt-4o-mini", input="x", tools=[WEATHER, tool])
    error = raised.value.body
    assert error["code"] == "unsupported_tool" and error["param"] == "tools[1]"
    assert error["message"].startswith(f"The {named} is not supported by this relay")
    validate({"error": error}, "ErrorResponse")
    assert sim.requests_to("/api/chat-with-ai") == []


@pytest.mark.parametrize(
    "extra, param, code",
    [
        ({"tool_choice": {"type": "function", "name": "nope"}}, "tool_choice.name", "invalid_value"),
        ({"tool_choice": {"type": "file_search"}}, "tool_choice", "unsupported_tool"),
        ({"tool_choice": {"type": "web_search_preview"}}, "tool_choice", "invalid_value"),
        ({"tools": [WEATHER, WEATHER]}, "tools[1].name", "invalid_value"),
        ({"tools": [{**WEATHER, "parameters": {"type": "object", "properties": {"c": {"pattern": "(?=x)"}}}}]},
         "tools[0].parameters", "invalid_function_parameters"),
    ],
)
def test_tool_choices_and_tools_that_cannot_be_honoured_are_a_400(relay, sim, extra, param, code):
    response = post(relay, {"model": "gpt-4o-mini", "input": "x", "tools": [WEATHER], **extra})
    assert response.status_code == 400, response.text
    assert (response.json()["error"]["param"], response.json()["error"]["code"]) == (param, code)
    assert sim.requests_to("/api/chat-with-ai") == []


# ---- function tools --------------------------------------------------------------------------

def _call(name: str, arguments: dict) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def test_a_function_call_and_its_output_continue_through_previous_response_id(client, relay, sim):
    sim.script({"text": _call("get_weather", {"city": "Paris"}),
                "metadata": {"inputToken": 40, "outputToken": 12, "totalToken": 52}})
    first = client.responses.create(model="gpt-4o-mini", input="Weather in Paris?", tools=[WEATHER])
    validate(_stored(relay, first.id), "Response")
    (call,) = first.output
    assert (call.type, call.status, call.name, json.loads(call.arguments)) == ("function_call", "completed", "get_weather", {"city": "Paris"})
    assert call.id.startswith("fc_") and call.call_id.startswith("call_") and first.status == "completed"
    assert (first.usage.input_tokens, first.usage.output_tokens) == (40, 12)
    prompt = prompts(sim)[0]
    assert "`get_weather`: Current weather in a city." in prompt
    assert json.dumps(WEATHER["parameters"], separators=(",", ":")) in prompt

    sim.script({"text": "It is 18°C and sunny in Paris."})
    second = client.responses.create(model="gpt-4o-mini", previous_response_id=first.id, tools=[WEATHER],
                                     input=[{"type": "function_call_output", "call_id": call.call_id, "output": "18C, sunny"}])
    assert second.output_text == "It is 18°C and sunny in Paris." and second.output[0].type == "message"
    follow_up = prompts(sim)[1]
    assert "Human: Weather in Paris?" in follow_up
    assert '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>' in follow_up
    assert f'<tool_result call_id="{call.call_id}" name="get_weather">18C, sunny</tool_result>' in follow_up


def test_a_whole_input_history_continues_the_loop_without_storage(relay, sim):
    sim.script({"text": "Noted: 18C."})
    body = post(relay, {"model": "gpt-4o-mini", "store": False, "tools": [WEATHER], "input": [
        {"role": "user", "content": "Weather in Oslo?"},
        {"type": "function_call", "call_id": "call_abc", "name": "get_weather", "arguments": '{"city": "Oslo"}'},
        {"type": "function_call_output", "call_id": "call_abc", "output": "18C"},
    ]}).json()
    validate(body, "Response")
    assert body["output"][0]["content"][0]["text"] == "Noted: 18C."
    (prompt,) = prompts(sim)
    assert prompt.index("Human: Weather in Oslo?") < prompt.index('"city": "Oslo"') < prompt.index(
        '<tool_result call_id="call_abc" name="get_weather">18C</tool_result>')


def test_a_streamed_call_sends_the_official_event_sequence(relay, sim):
    sim.script({"text": "Let me check.\n" + _call("get_weather", {"city": "Rome"}) + "\n" + _call("get_time", {"tz": "CET"})})
    events = stream_events(relay, {"model": "gpt-4o-mini", "input": "Rome?", "tools": [WEATHER, TIME]})
    call_events = ["response.output_item.added", "response.function_call_arguments.delta",
                   "response.function_call_arguments.done", "response.output_item.done"]
    text_deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert "".join(text_deltas).strip() == "Let me check." and "<tool_call>" not in "".join(text_deltas)
    assert [t for t in types(events) if t != "response.output_text.delta"] == [
        "response.created", "response.in_progress",
        "response.output_item.added", "response.content_part.added",
        "response.output_text.done", "response.content_part.done", "response.output_item.done",
        *call_events, *call_events, "response.completed",
    ]
    final = events[-1]["response"]
    message, weather, clock = final["output"]
    assert message["content"][0]["text"].strip() == "Let me check."
    assert (weather["name"], json.loads(weather["arguments"]), clock["name"]) == ("get_weather", {"city": "Rome"}, "get_time")
    first_call = types(events).index("response.function_call_arguments.delta") - 1
    added, delta, done, item_done = events[first_call:first_call + 4]
    assert added["item"]["status"] == "in_progress" and added["item"]["arguments"] == "" and added["output_index"] == 1
    assert delta["item_id"] == done["item_id"] == weather["id"] and delta["delta"] == done["arguments"] == weather["arguments"]
    assert done["name"] == "get_weather" and item_done["item"] == weather

    sim.script({"text": "No tool needed: it is noon."})
    events = stream_events(relay, {"model": "gpt-4o-mini", "input": "time?", "tools": [TIME]})
    assert [item["type"] for item in events[-1]["response"]["output"]] == ["message"]
    assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") == "No tool needed: it is noon."


def test_a_named_choice_gets_one_repair_and_usage_counts_it_and_parallel_false_keeps_one_call(client, sim):
    sim.script({"text": "I think it is sunny.", "metadata": {"inputToken": 30, "outputToken": 6, "totalToken": 36}}, times=1)
    sim.script({"text": _call("get_weather", {"city": "Lima"}) + _call("get_weather", {"city": "Quito"}),
                "metadata": {"inputToken": 50, "outputToken": 20, "totalToken": 70}}, times=1)
    response = client.responses.create(model="gpt-4o-mini", input="Lima?", tools=[WEATHER, TIME], parallel_tool_calls=False,
                                       tool_choice={"type": "function", "name": "get_weather"})
    calls = [item for item in response.output if item.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (80, 26)
    first, repair = prompts(sim)
    assert "MUST call the tool `get_weather`" in first and "Assistant: I think it is sunny." in repair


def test_a_required_call_that_never_comes_fails_the_response_honestly(client, sim):
    sim.script({"text": "No tools for me."}, times=2)
    response = client.responses.create(model="gpt-4o-mini", input="x", tools=[WEATHER], tool_choice="required")
    assert response.status == "failed" and response.output == []
    assert response.error.code == "server_error" and "tool" in response.error.message
    assert len(prompts(sim)) == 2


def test_a_text_answer_after_tools_is_still_held_to_the_json_format(client, sim):
    sim.script({"text": "The weather: {\"city\": \"Oslo\", \"temp\": 18}"})
    response = client.responses.create(
        model="gpt-4o-mini", input="Oslo weather as JSON", tools=[WEATHER],
        text={"format": {"type": "json_schema", "name": "report", "strict": True, "schema": {
            "type": "object", "properties": {"city": {"type": "string"}, "temp": {"type": "number"}},
            "required": ["city", "temp"], "additionalProperties": False}}})
    assert json.loads(response.output_text) == {"city": "Oslo", "temp": 18}
    assert len(prompts(sim)) == 1
