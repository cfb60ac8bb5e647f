"""The OpenAI Agents SDK through the relay: function tools run once and hand-offs switch agents,
on the Chat Completions model (plain and streamed) and on the Responses model."""
from __future__ import annotations

import asyncio
import json

import openai
import pytest
from agents import (
    Agent,
    HandoffOutputItem,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    RunConfig,
    Runner,
    ToolCallOutputItem,
    function_tool,
    handoff,
    set_tracing_disabled,
)

from tests.frameworks.framework_support import API_KEY, MODEL, prompts, tool_call_reply

pytestmark = pytest.mark.frameworks

# No trace ever leaves the machine: tracing is off globally and per run.
RUN = RunConfig(tracing_disabled=True)
MODEL_KINDS = ["chat_completions", "responses"]


@pytest.fixture(scope="module", autouse=True)
def no_tracing():
    set_tracing_disabled(True)
    yield
    set_tracing_disabled(False)


@pytest.fixture
def model_for(relay, sim):
    """`model_for(kind)`: the SDK's Chat Completions or Responses model on a client aimed at the relay."""
    clients: list[openai.AsyncOpenAI] = []

    def build(kind: str):
        client = openai.AsyncOpenAI(base_url=f"{relay.url}/v1", api_key=API_KEY,
                                    max_retries=0, timeout=30)
        clients.append(client)
        if kind == "responses":
            return OpenAIResponsesModel(model=MODEL, openai_client=client)
        return OpenAIChatCompletionsModel(model=MODEL, openai_client=client)

    yield build
    for client in clients:
        asyncio.run(client.close())


def weather_agent(model, executions: list[str]) -> Agent:
    @function_tool
    def get_weather(city: str) -> str:
        """The current weather in a city."""
        executions.append(city)
        return f"sunny and 21 C in {city} (station 4471)"

    return Agent(name="Weather agent", instructions="Answer weather questions with the get_weather tool.",
                 tools=[get_weather], model=model)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_an_agent_runs_its_function_tool_once_and_returns_the_final_answer(model_for, sim, kind):
    executions: list[str] = []
    agent = weather_agent(model_for(kind), executions)
    sim.script({"text": tool_call_reply("get_weather", {"city": "Paris"})})
    sim.script({"text": "It is sunny in Paris, 21 C."})

    result = Runner.run_sync(agent, "What is the weather in Paris?", run_config=RUN, max_turns=4)

    assert result.final_output == "It is sunny in Paris, 21 C."
    assert executions == ["Paris"]
    (output,) = [item for item in result.new_items if isinstance(item, ToolCallOutputItem)]
    assert output.output == "sunny and 21 C in Paris (station 4471)"
    first, second = prompts(sim)
    assert "get_weather" in first and "The current weather in a city." in first
    # The tool's result went back to the model in the second call.
    assert "station 4471" in second and "station 4471" not in first


def test_a_streamed_run_runs_the_tool_once_and_streams_the_final_answer(model_for, sim):
    executions: list[str] = []
    agent = weather_agent(model_for("chat_completions"), executions)
    sim.script({"text": tool_call_reply("get_weather", {"city": "Oslo"})})
    sim.script({"text": "Oslo: sunny, 21 C."})

    async def run() -> tuple[object, list[str]]:
        result = Runner.run_streamed(agent, "Weather in Oslo?", run_config=RUN, max_turns=4)
        kinds = [event.item.type async for event in result.stream_events() if event.type == "run_item_stream_event"]
        return result, kinds

    result, kinds = asyncio.run(run())

    assert result.final_output == "Oslo: sunny, 21 C."
    assert executions == ["Oslo"]
    assert kinds == ["tool_call_item", "tool_call_output_item", "message_output_item"]
    assert all(r["path"] == "/api/chat-with-ai" and r["query"].get("isStreaming") == "true"
               for r in sim.requests_to("/api/chat-with-ai"))
    assert len(prompts(sim)) == 2


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_a_triage_agent_hands_off_to_a_second_agent_which_answers(model_for, sim, kind):
    billing = Agent(name="Billing agent", instructions="You settle invoices. Sign as BILLING-DESK.",
                    model=model_for(kind))
    to_billing = handoff(billing)
    triage = Agent(name="Triage agent", instructions="Route each question to the right agent.",
                   handoffs=[to_billing], model=model_for(kind))
    sim.script({"text": tool_call_reply(to_billing.tool_name, {})})
    sim.script({"text": "Invoice 1009 is paid. BILLING-DESK"})

    result = Runner.run_sync(triage, "Is invoice 1009 paid?", run_config=RUN, max_turns=4)

    assert result.final_output == "Invoice 1009 is paid. BILLING-DESK"
    assert result.last_agent is billing
    (handed,) = [item for item in result.new_items if isinstance(item, HandoffOutputItem)]
    assert (handed.source_agent, handed.target_agent) == (triage, billing)
    first, second = prompts(sim)
    assert to_billing.tool_name in first and "BILLING-DESK" not in first
    # The second call is the billing agent's: its instructions, the user's question carried over.
    assert "Sign as BILLING-DESK" in second and "invoice 1009" in second.lower()


def test_the_tool_arguments_reach_the_function_as_the_model_wrote_them(model_for, sim):
    seen: list[dict] = []

    @function_tool
    def book_table(restaurant: str, guests: int, vegetarian: bool) -> str:
        """Book a table."""
        seen.append({"restaurant": restaurant, "guests": guests, "vegetarian": vegetarian})
        return json.dumps({"booked": True, "ref": "T-88"})

    agent = Agent(name="Concierge", instructions="Book tables.", tools=[book_table],
                  model=model_for("chat_completions"))
    sim.script({"text": tool_call_reply("book_table", {"restaurant": "Chez Ann", "guests": 4, "vegetarian": True})})
    sim.script({"text": "Booked: reference T-88."})

    result = Runner.run_sync(agent, "A table for 4 at Chez Ann, vegetarian.", run_config=RUN, max_turns=4)

    assert seen == [{"restaurant": "Chez Ann", "guests": 4, "vegetarian": True}]
    assert result.final_output == "Booked: reference T-88."
