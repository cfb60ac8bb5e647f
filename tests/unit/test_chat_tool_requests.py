"""What chat requests declare about tools, read into a ToolSpec (errors are covered end to end)."""
import pytest

from core.errors import InvalidRequest
from api.request_schemas.tools import parse_chat_tools
from api.tool_emulation.spec import Tool, ToolChoice, ToolSpec

F = {"name": "f", "description": "does f", "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}},
     "strict": True}
TOOL_F = Tool("f", "does f", F["parameters"], True)
G = Tool("g")


@pytest.mark.parametrize(
    "body, spec, legacy",
    [
        ({}, None, False),
        ({"tools": []}, None, False),
        ({"tools": [], "tool_choice": "auto"}, None, False),
        ({"tools": [{"type": "function", "function": F}]}, ToolSpec((TOOL_F,)), False),
        ({"tools": [{"type": "function", "function": F}, {"type": "function", "function": {"name": "g"}}],
          "tool_choice": {"type": "function", "function": {"name": "g"}}, "parallel_tool_calls": False},
         ToolSpec((TOOL_F, G), ToolChoice("named", "g"), False), False),
        ({"tools": [{"type": "function", "function": F}], "tool_choice": "required"},
         ToolSpec((TOOL_F,), ToolChoice("required")), False),
        ({"tools": [{"type": "function", "function": F}], "tool_choice": "none"},
         ToolSpec((TOOL_F,), ToolChoice("none")), False),
        ({"functions": [F]}, ToolSpec((TOOL_F,), ToolChoice(), False), True),
        ({"functions": [F], "function_call": {"name": "f"}}, ToolSpec((TOOL_F,), ToolChoice("named", "f"), False), True),
    ],
)
def test_declarations_become_a_spec(body, spec, legacy):
    assert parse_chat_tools(body) == (spec, legacy)


def test_legacy_function_call_has_no_required():
    with pytest.raises(InvalidRequest) as error:
        parse_chat_tools({"functions": [F], "function_call": "required"})
    assert error.value.param == "function_call"
