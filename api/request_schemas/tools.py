"""Validation of the tools a request declares (chat `tools`/`tool_choice`, legacy `functions`) into a ToolSpec."""
from __future__ import annotations

import re
from typing import Any

from core.errors import InvalidRequest
from api.schema_validation import schema_problems
from api.tool_emulation.spec import Tool, ToolChoice, ToolSpec

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TOOLS = 128
_EMPTY_PARAMETERS = {"type": "object", "properties": {}}


def function_tool(spec: Any, param: str) -> Tool:
    """One function definition (`name`, `description`, `parameters`, `strict`), checked; shared by
    every endpoint that declares function tools."""
    if not isinstance(spec, dict):
        raise InvalidRequest(f"`{param}` must be an object.", param=param, code="invalid_type")
    name = spec.get("name")
    if name is None:
        raise InvalidRequest(f"Missing required parameter: `{param}.name`.", param=f"{param}.name",
                             code="missing_required_parameter")
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidRequest(f"`{param}.name` must be 1-64 letters, digits, `_` or `-`.", param=f"{param}.name",
                             code="invalid_value")
    description = spec.get("description")
    if description is not None and not isinstance(description, str):
        raise InvalidRequest(f"`{param}.description` must be a string.", param=f"{param}.description", code="invalid_type")
    parameters = spec.get("parameters")
    if parameters is None:
        parameters = _EMPTY_PARAMETERS
    if not isinstance(parameters, dict):
        raise InvalidRequest(f"`{param}.parameters` must be a JSON Schema object.", param=f"{param}.parameters",
                             code="invalid_type")
    problems = schema_problems(parameters)
    if problems:
        raise InvalidRequest(f"Invalid schema for function `{name}`: {problems[0]}", param=f"{param}.parameters",
                             code="invalid_function_parameters")
    strict = spec.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise InvalidRequest(f"`{param}.strict` must be a boolean.", param=f"{param}.strict", code="invalid_type")
    return Tool(name, description or "", parameters, bool(strict))


def _unique(tools: list[Tool], param: str) -> tuple[Tool, ...]:
    seen: set[str] = set()
    for i, tool in enumerate(tools):
        if tool.name in seen:
            raise InvalidRequest(f"Function names must be unique; `{tool.name}` is declared twice.",
                                 param=f"{param}[{i}]", code="invalid_value")
        seen.add(tool.name)
    return tuple(tools)


def _list(value: Any, param: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidRequest(f"`{param}` must be a list.", param=param, code="invalid_type")
    if len(value) > MAX_TOOLS:
        raise InvalidRequest(f"`{param}` may hold at most {MAX_TOOLS} tools.", param=param, code="invalid_value")
    return value


def _chat_tools(value: list[Any]) -> tuple[Tool, ...]:
    tools = []
    for i, item in enumerate(_list(value, "tools")):
        param = f"tools[{i}]"
        if not isinstance(item, dict):
            raise InvalidRequest(f"`{param}` must be an object.", param=param, code="invalid_type")
        if item.get("type") != "function":
            raise InvalidRequest(
                f"Invalid value for `{param}.type`: {item.get('type')!r}. This relay supports `function` tools only.",
                param=f"{param}.type", code="unsupported_tool",
            )
        if "function" not in item:
            raise InvalidRequest(f"Missing required parameter: `{param}.function`.", param=f"{param}.function",
                                 code="missing_required_parameter")
        tools.append(function_tool(item["function"], f"{param}.function"))
    return _unique(tools, "tools")


def _choice(value: Any, tools: tuple[Tool, ...], param: str, legacy: bool) -> ToolChoice:
    if value is None:
        return ToolChoice()
    if value in ("none", "auto") or (value == "required" and not legacy):
        return ToolChoice(value)
    name = None
    if isinstance(value, dict):
        target = value if legacy else value.get("function")
        if (legacy or value.get("type") == "function") and isinstance(target, dict):
            name = target.get("name")
    if not isinstance(name, str):
        shape = '{"name": ...}' if legacy else '{"type": "function", "function": {"name": ...}}'
        allowed = "none, auto" if legacy else "none, auto, required"
        raise InvalidRequest(f"`{param}` must be one of {allowed} or {shape}.", param=param, code="invalid_value")
    if not any(t.name == name for t in tools):
        raise InvalidRequest(f"`{param}` names `{name}`, which is not among the declared tools.", param=param,
                             code="invalid_value")
    return ToolChoice("named", name)


def parse_chat_tools(body: dict[str, Any]) -> tuple[ToolSpec | None, bool]:
    """(the spec, whether it came from legacy `functions`); (None, False) when no tool is declared."""
    tools, functions = body.get("tools"), body.get("functions")
    parallel = body.get("parallel_tool_calls")
    if parallel is not None and not isinstance(parallel, bool):
        raise InvalidRequest("`parallel_tool_calls` must be a boolean.", param="parallel_tool_calls", code="invalid_type")
    if tools and functions:
        raise InvalidRequest("Send either `tools` or the older `functions`, not both.", param="functions")
    if functions:
        declared = _unique([function_tool(f, f"functions[{i}]") for i, f in enumerate(_list(functions, "functions"))],
                           "functions")
        # A legacy function_call answer holds one call.
        return ToolSpec(declared, _choice(body.get("function_call"), declared, "function_call", True), False), True
    if tools is not None:
        declared = _chat_tools(tools)
    else:
        declared = ()
    if not declared:
        if body.get("tool_choice") not in (None, "none", "auto"):
            raise InvalidRequest("`tool_choice` is only allowed when `tools` are specified.", param="tool_choice",
                                 code="invalid_value")
        if body.get("function_call") not in (None, "none", "auto"):
            raise InvalidRequest("`function_call` is only allowed when `functions` are specified.",
                                 param="function_call", code="invalid_value")
        return None, False
    choice = _choice(body.get("tool_choice"), declared, "tool_choice", False)
    return ToolSpec(declared, choice, True if parallel is None else parallel), False
