"""Tools on /v1/responses: emulated function calls, web search as 1min.ai's, hosted tools refused by name."""
import json

import httpx
import openai
import pytest

from tests.e2e.responses_support import post, prompts, stream_events, types
from tests.openai_schema import validate

WEATHER = {
    "type": "function", "name": "get_weather", "description": "Current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                   "additionalProperties": False},
}
TIME = {"type": "function", "name": "get_time", "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}}


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
    validate(response.model_dump(mode="json", exclude_unset=True), "Response")

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
         "tools[0].parameters", "invalid_value"),
    ],
)
def test_tool_choices_and_tools_that_cannot_be_honoured_are_a_400(relay, sim, extra, param, code):
    response = post(relay, {"model": "gpt-4o-mini", "input": "x", "tools": [WEATHER], **extra})
    assert response.status_code == 400, response.text
    assert (response.json()["error"]["param"], response.json()["error"]["code"]) == (param, code)
    assert sim.requests_to("/api/chat-with-ai") == []
