"""Table-driven tests of recognising tool calls in replies, in every shape models write them."""
import pytest

from api.tool_emulation.parse import parse_reply
from api.tool_emulation.spec import Tool, ToolChoice, ToolSpec
from api.tool_emulation.validate import check

WEATHER = Tool("get_weather", "Weather in a city", {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False,
})
TIME = Tool("get_time", "", {"type": "object", "properties": {"tz": {"type": "string"}}})
SPEC = ToolSpec((WEATHER, TIME))
PARIS = ("get_weather", {"city": "Paris"})
UTC = ("get_time", {"tz": "UTC"})


@pytest.mark.parametrize(
    "reply, calls, text",
    [
        # The convention the prompt asks for, one tag or several.
        ('<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>', [PARIS], ""),
        ('<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>\n'
         '<tool_call>{"name": "get_time", "arguments": {"tz": "UTC"}}</tool_call>', [PARIS, UTC], ""),
        ('Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
         [PARIS], "Let me check."),
        ('<tool_call>```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```</tool_call>', [PARIS], ""),
        ('<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}', [PARIS], ""),  # unclosed last tag
        # A tool_calls object.
        ('{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}},'
         ' {"name": "get_time", "arguments": "{\\"tz\\": \\"UTC\\"}"}]}', [PARIS, UTC], ""),
        # A single {name, arguments}, arguments as object or JSON string.
        ('{"name": "get_weather", "arguments": {"city": "Paris"}}', [PARIS], ""),
        ('{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}', [PARIS], ""),
        ('{"name": "get_time"}', [("get_time", {})], ""),
        # OpenAI's own items, alone or in a list.
        ('{"type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}',
         [PARIS], ""),
        ('[{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]',
         [PARIS], ""),
        # Inside a fence, or after a line of prose.
        ('```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```', [PARIS], ""),
        ('```\n{"tool_calls": [{"name": "get_time", "arguments": {"tz": "UTC"}}]}\n```', [UTC], ""),
        ('I will look it up.\n{"name": "get_weather", "arguments": {"city": "Paris"}}', [PARIS], "I will look it up."),
        ('Sure:\n```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```\nOne moment.',
         [PARIS], "Sure:\n\nOne moment."),
        ('{"name": "get_weather", "arguments": {"city": "Paris"}}\n{"name": "get_time", "arguments": {"tz": "UTC"}}',
         [PARIS, UTC], ""),
    ],
)
def test_calls_are_recognised_in_every_shape(reply, calls, text):
    parsed = parse_reply(reply, SPEC)
    assert parsed.problems == []
    assert parsed.calls == calls
    assert parsed.text == text


@pytest.mark.parametrize(
    "reply",
    [
        "The weather in Paris is sunny.",
        '{"name": "Ann", "age": 3}',  # JSON that is an answer
        '{"name": "search_web", "arguments": {"q": "x"}}',  # names no declared tool
        '```json\n{"tool_calls": [{"name": "unknown", "arguments": {}}]}\n```',
        'Use it like {"name": "get_weather", "arguments": {"city": "Paris"}} in your code.',  # mid-line
        "[1, 2, 3]",
        "",
    ],
)
def test_replies_that_are_not_calls_stay_text(reply):
    parsed = parse_reply(reply, SPEC)
    assert not parsed.attempted
    assert parsed.text == reply


@pytest.mark.parametrize(
    "reply, problem",
    [
        ('<tool_call>{"name": "search_web", "arguments": {}}</tool_call>', "`search_web` is not a declared tool"),
        ("<tool_call>get_weather(city='Paris')</tool_call>", "does not hold valid JSON"),
        ('<tool_call>{"city": "Paris"}</tool_call>', "must hold"),
        ('<tool_call>{"name": "get_weather", "arguments": "{city: Paris}"}</tool_call>', "not valid JSON"),
        ('<tool_call>{"name": "get_weather", "arguments": [1]}</tool_call>', "must be a JSON object"),
        ('{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "nope"}]}',
         "`nope` is not a declared tool"),
    ],
)
def test_broken_call_attempts_are_problems(reply, problem):
    parsed = parse_reply(reply, SPEC)
    assert parsed.attempted
    assert any(problem in p for p in parsed.problems), parsed.problems


@pytest.mark.parametrize(
    "reply, spec, names, problem",
    [
        ('<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>', SPEC, [],
         "$: 'city' is a required property"),
        ('<tool_call>{"name": "get_weather", "arguments": {"city": 3}}</tool_call>', SPEC, [], "$.city"),
        ("Just text.", ToolSpec((WEATHER,), ToolChoice("required")), [], "must call at least one tool"),
        ("Just text.", ToolSpec((WEATHER, TIME), ToolChoice("named", "get_time")), [], "must call the tool `get_time`"),
        ('<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>',
         ToolSpec((WEATHER, TIME), ToolChoice("named", "get_time")), [], "You must call `get_time`"),
        ("Just text.", SPEC, [], None),
        ('<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>'
         '<tool_call>{"name": "get_time", "arguments": {}}</tool_call>',
         ToolSpec((WEATHER, TIME), parallel=False), ["get_weather"], None),
        ('<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>'
         '<tool_call>{"name": "get_time", "arguments": {}}</tool_call>', SPEC, ["get_weather", "get_time"], None),
    ],
)
def test_calls_are_checked_against_schemas_and_choice(reply, spec, names, problem):
    verdict = check(parse_reply(reply, spec), spec)
    assert [c.name for c in verdict.calls] == names
    if problem is None:
        assert verdict.ok
    else:
        assert not verdict.ok and any(problem in p for p in verdict.problems), verdict.problems


def test_validated_calls_get_openai_shaped_ids_and_json_arguments():
    verdict = check(parse_reply('{"name": "get_weather", "arguments": {"city": "Zürich"}}', SPEC), SPEC)
    (call,) = verdict.calls
    assert call.id.startswith("call_") and len(call.id) == 29
    assert call.arguments_json == '{"city": "Zürich"}'
