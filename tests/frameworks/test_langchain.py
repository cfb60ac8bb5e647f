"""LangChain's ChatOpenAI through the relay: bind_tools gives tool_calls (plain, streamed, and a full
tool loop), and with_structured_output works with each of its three methods."""
from __future__ import annotations

import json

import pydantic
import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from tests.frameworks.framework_support import API_KEY, MODEL, prompts, tool_call_reply

pytestmark = pytest.mark.frameworks


class Person(pydantic.BaseModel):
    """A person mentioned in the text."""

    name: str
    age: int


@tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"sunny and 21 C in {city} (station 4471)"


@pytest.fixture
def chat_on(relay, sim):
    """`chat_on(responses)`: ChatOpenAI on the relay's /v1/chat/completions or /v1/responses, retries off."""
    return lambda responses: ChatOpenAI(model=MODEL, base_url=f"{relay.url}/v1", api_key=API_KEY,
                                        max_retries=0, timeout=30, use_responses_api=responses)


@pytest.fixture
def chat(chat_on):
    return chat_on(False)


def test_bind_tools_returns_the_models_tool_calls(chat, sim):
    sim.script({"text": tool_call_reply("get_weather", {"city": "Paris"})})

    message = chat.bind_tools([get_weather]).invoke("What is the weather in Paris?")

    assert isinstance(message, AIMessage)
    (call,) = message.tool_calls
    assert (call["name"], call["args"]) == ("get_weather", {"city": "Paris"})
    assert call["id"].startswith("call_")
    assert message.response_metadata["finish_reason"] == "tool_calls"
    (prompt,) = prompts(sim)
    assert "get_weather" in prompt and "The current weather in a city." in prompt


def test_streamed_tool_call_chunks_add_up_to_the_tool_call(chat, sim):
    sim.script({"text": tool_call_reply("get_weather", {"city": "Lima"})})

    total = None
    for chunk in chat.bind_tools([get_weather]).stream("Weather in Lima?"):
        total = chunk if total is None else total + chunk

    (call,) = total.tool_calls
    assert (call["name"], call["args"]) == ("get_weather", {"city": "Lima"})
    assert call["id"].startswith("call_")
    assert total.response_metadata["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("responses", [False, True], ids=["chat_completions", "responses"])
def test_a_tool_loop_feeds_the_result_back_and_gets_the_answer(chat_on, sim, responses):
    model = chat_on(responses).bind_tools([get_weather])
    sim.script({"text": tool_call_reply("get_weather", {"city": "Rome"})})
    sim.script({"text": "Rome is sunny, 21 C."})

    history = [HumanMessage("What is the weather in Rome?")]
    first = model.invoke(history)
    (call,) = first.tool_calls
    assert (call["name"], call["args"]) == ("get_weather", {"city": "Rome"})
    history += [first, ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])]
    answer = model.invoke(history)

    assert answer.text == "Rome is sunny, 21 C." and answer.tool_calls == []
    _, second = prompts(sim)
    assert "station 4471" in second and "Rome" in second


@pytest.mark.parametrize("method", ["function_calling", "json_mode", "json_schema"])
def test_with_structured_output_returns_the_object_for_each_method(chat, sim, method):
    reply = {"name": "Ann", "age": 31}
    # function_calling asks for a call of the tool named after the schema; for the JSON modes the
    # model wraps its JSON in prose and a code fence, which the relay must clean away.
    sim.script({"text": tool_call_reply("Person", reply) if method == "function_calling"
                else f"Here is the person:\n```json\n{json.dumps(reply)}\n```\nAnything else?"})

    structured = chat.with_structured_output(Person, method=method, include_raw=True)
    result = structured.invoke("Ann is 31. Extract the person, as JSON.")

    assert result["parsed"] == Person(name="Ann", age=31) and result["parsing_error"] is None
    if method == "function_calling":
        assert [call["args"] for call in result["raw"].tool_calls] == [reply]
    else:
        # LangChain's parsers would forgive a fence; the relay must hand over the JSON alone.
        assert json.loads(result["raw"].content) == reply
    (prompt,) = prompts(sim)
    assert "Ann is 31" in prompt
    if method != "json_mode":  # the schema (tool parameters or response format) reached the model
        assert '"age"' in prompt and "integer" in prompt
