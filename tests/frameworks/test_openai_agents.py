"""The OpenAI Agents SDK through the relay: function tools run once and hand-offs switch agents,
on the Chat Completions model (plain and streamed) and on the Responses model."""
from __future__ import annotations

import asyncio
import json
from typing import Callable

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
def run_agent(relay, sim):
    """`run_agent(make_agent, text, kind, streamed=False)`: build the agent on the SDK's Chat
    Completions or Responses model (a client aimed at the relay, closed after the run), run it and
    return the result and, when streamed, the kinds of run items streamed, in order."""

    def run(make_agent: Callable[[object], Agent], text: str, kind: str, streamed: bool = False):
        async def go():
            async with openai.AsyncOpenAI(base_url=f"{relay.url}/v1", api_key=API_KEY,
                                          max_retries=0, timeout=30) as client:
                model_class = OpenAIResponsesModel if kind == "responses" else OpenAIChatCompletionsModel
                agent = make_agent(model_class(model=MODEL, openai_client=client))
                if not streamed:
                    return await Runner.run(agent, text, run_config=RUN, max_turns=4), []
                result = Runner.run_streamed(agent, text, run_config=RUN, max_turns=4)
                kinds = [event.item.type async for event in result.stream_events()
                         if event.type == "run_item_stream_event"]
                return result, kinds

        return asyncio.run(go())

    return run


def weather_agent(executions: list[str]) -> Callable[[object], Agent]:
    @function_tool
    def get_weather(city: str) -> str:
        """The current weather in a city."""
        executions.append(city)
        return f"sunny and 21 C in {city} (station 4471)"

    return lambda model: Agent(name="Weather agent", tools=[get_weather], model=model,
                               instructions="Answer weather questions with the get_weather tool.")


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_an_agent_runs_its_function_tool_once_and_returns_the_final_answer(run_agent, sim, kind):
    executions: list[str] = []
    sim.script({"text": tool_call_reply("get_weather", {"city": "Paris"})})
    sim.script({"text": "It is sunny in Paris, 21 C."})

    result, _ = run_agent(weather_agent(executions), "What is the weather in Paris?", kind)

    assert result.final_output == "It is sunny in Paris, 21 C."
    assert executions == ["Paris"]
    (output,) = [item for item in result.new_items if isinstance(item, ToolCallOutputItem)]
    assert output.output == "sunny and 21 C in Paris (station 4471)"
    first, second = prompts(sim)
    assert "get_weather" in first and "The current weather in a city." in first
    # The tool's result went back to the model in the second call.
    assert "station 4471" in second and "station 4471" not in first


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_a_streamed_run_runs_the_tool_once_and_streams_the_final_answer(run_agent, sim, kind):
    executions: list[str] = []
    sim.script({"text": tool_call_reply("get_weather", {"city": "Oslo"})})
    sim.script({"text": "Oslo: sunny, 21 C."})

    result, kinds = run_agent(weather_agent(executions), "Weather in Oslo?", kind, streamed=True)

    assert result.final_output == "Oslo: sunny, 21 C."
    assert executions == ["Oslo"]
    assert kinds == ["tool_call_item", "tool_call_output_item", "message_output_item"]
    upstream = sim.requests_to("/api/chat-with-ai")
    assert len(upstream) == 2 and all(r["query"].get("isStreaming") == "true" for r in upstream)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_a_triage_agent_hands_off_to_a_second_agent_which_answers(run_agent, sim, kind):
    agents: dict[str, Agent] = {}

    def triage(model) -> Agent:
        agents["billing"] = Agent(name="Billing agent", model=model,
                                  instructions="You settle invoices. Sign as BILLING-DESK.")
        agents["triage"] = Agent(name="Triage agent", instructions="Route each question to the right agent.",
                                 handoffs=[handoff(agents["billing"])], model=model)
        return agents["triage"]

    transfer = "transfer_to_billing_agent"  # the SDK's default name for the hand-off tool
    sim.script({"text": tool_call_reply(transfer, {})})
    sim.script({"text": "Invoice 1009 is paid. BILLING-DESK"})

    result, _ = run_agent(triage, "Is invoice 1009 paid?", kind)

    assert result.final_output == "Invoice 1009 is paid. BILLING-DESK"
    assert result.last_agent is agents["billing"]
    (handed,) = [item for item in result.new_items if isinstance(item, HandoffOutputItem)]
    assert (handed.source_agent, handed.target_agent) == (agents["triage"], agents["billing"])
    first, second = prompts(sim)
    assert transfer in first and "BILLING-DESK" not in first
    # The second call is the billing agent's: its instructions, the user's question carried over.
    assert "Sign as BILLING-DESK" in second and "invoice 1009" in second.lower()


def test_the_tool_arguments_reach_the_function_as_the_model_wrote_them(run_agent, sim):
    seen: list[dict] = []

    @function_tool
    def book_table(restaurant: str, guests: int, vegetarian: bool) -> str:
        """Book a table."""
        seen.append({"restaurant": restaurant, "guests": guests, "vegetarian": vegetarian})
        return json.dumps({"booked": True, "ref": "T-88"})

    sim.script({"text": tool_call_reply("book_table", {"restaurant": "Chez Ann", "guests": 4, "vegetarian": True})})
    sim.script({"text": "Booked: reference T-88."})

    result, _ = run_agent(lambda model: Agent(name="Concierge", instructions="Book tables.", tools=[book_table],
                                              model=model),
                          "A table for 4 at Chez Ann, vegetarian.", "chat_completions")

    assert seen == [{"restaurant": "Chez Ann", "guests": 4, "vegetarian": True}]
    assert result.final_output == "Booked: reference T-88."
