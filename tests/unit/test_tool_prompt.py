"""What the model is told about tools, and how history is written in the calling convention."""
import json

from api.tool_emulation import prompt
from api.tool_emulation.parse import parse_reply
from api.tool_emulation.spec import Tool, ToolChoice, ToolSpec

WEATHER = Tool("get_weather", "Weather in a city", {"type": "object", "properties": {"city": {"type": "string"}}})
TIME = Tool("get_time")


def test_instructions_declare_each_tool_with_its_schema_and_the_convention():
    text = prompt.instructions(ToolSpec((WEATHER, TIME)))
    assert "`get_weather`: Weather in a city" in text and "`get_time`" in text
    assert json.dumps(WEATHER.parameters, separators=(",", ":")) in text
    assert '<tool_call>{"name": "TOOL_NAME", "arguments": {"ARGUMENT": "VALUE"}}</tool_call>' in text
    assert "several tools" in text and "plain text" in text


def test_instructions_follow_the_choice_and_parallelism():
    assert "MUST call at least one tool" in prompt.instructions(ToolSpec((WEATHER,), ToolChoice("required")))
    assert "MUST call the tool `get_time`" in prompt.instructions(ToolSpec((WEATHER, TIME), ToolChoice("named", "get_time")))
    assert "at most one tool" in prompt.instructions(ToolSpec((WEATHER,), parallel=False))


def test_earlier_calls_are_written_so_the_parser_reads_them_back():
    calls = [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}},
             {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": ""}}]
    written = prompt.call_text(calls)
    assert written.count("<tool_call>") == 2
    assert parse_reply(written, ToolSpec((WEATHER, TIME))).calls == [("get_weather", {"city": "Oslo"}), ("get_time", {})]


def test_results_name_their_call_and_escape_attributes():
    assert prompt.result_text("call_1", "get_weather", "sunny") == \
        '<tool_result call_id="call_1" name="get_weather">sunny</tool_result>'
    assert prompt.result_text("a\"b", None, "x") == '<tool_result call_id="a&quot;b">x</tool_result>'


def test_conversation_rewrites_history_and_places_instructions_after_the_system_prompt():
    spec = ToolSpec((WEATHER,))
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "rain"},
        {"role": "assistant", "function_call": {"name": "get_weather", "arguments": "{}"}},
        {"role": "function", "name": "get_weather", "content": "snow"},
    ]
    out = prompt.conversation(messages, spec)
    assert [m["role"] for m in out] == ["system", "system", "user", "assistant", "tool", "assistant", "tool"]
    assert out[1]["content"] == prompt.instructions(spec)
    assert out[3] == {"role": "assistant", "content": '<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>'}
    assert out[4] == {"role": "tool", "content": '<tool_result call_id="call_1" name="get_weather">rain</tool_result>'}
    assert out[6]["content"] == '<tool_result name="get_weather">snow</tool_result>'
    assert messages[2]["tool_calls"]  # the caller's messages are left alone


def test_no_instructions_when_the_choice_is_none():
    out = prompt.conversation([{"role": "user", "content": "hi"}], ToolSpec((WEATHER,), ToolChoice("none")))
    assert out == [{"role": "user", "content": "hi"}]


def test_a_conversation_with_nothing_to_write_is_the_callers_list_itself():
    # So a count admission made of that list (core.token_counting.PromptCount) still applies.
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert prompt.conversation(messages, ToolSpec(())) is messages
    assert prompt.conversation(messages, ToolSpec((WEATHER,))) is not messages
    history = [*messages, {"role": "tool", "tool_call_id": "c", "content": "rain"}]
    assert prompt.conversation(history, ToolSpec(())) is not history


def test_repair_states_every_problem():
    text = prompt.repair_instructions(["first problem", "second problem"], ToolSpec((WEATHER,)))
    assert "- first problem\n- second problem" in text and "plain text" in text
